import {
  PodMonitor,
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'
import { Deployment } from 'kubernetes-models/apps/v1'
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1'
import { parseAllDocuments } from 'yaml'

// Schema checks for generated manifests, as `kubectl apply` would make them against a cluster:
// the Kubernetes core/apps OpenAPI schemas (kubernetes-models) and the Prometheus Operator's
// monitoring.coreos.com/v1 types (@kubernetes-models/prometheus-operator). Types, enums, required
// fields and formats are checked; unknown fields are not (kubectl's strict field validation needs
// an API server). Pinned to kubernetes-models 4.5.1 and prometheus-operator models 4.4.4, the
// last releases that run on Node 20 (5.x declares Node >= 22).

interface Validatable {
  validate(): void
}
type ModelOf = (doc: Record<string, unknown>) => Validatable

// The models take the documents as they are; validate() reports what does not fit.
const MODELS: Record<string, ModelOf> = {
  'v1/ConfigMap': (d) => new ConfigMap(d as never),
  'v1/Secret': (d) => new Secret(d as never),
  'v1/Service': (d) => new Service(d as never),
  'apps/v1/Deployment': (d) => new Deployment(d as never),
  'monitoring.coreos.com/v1/ServiceMonitor': (d) => new ServiceMonitor(d as never),
  'monitoring.coreos.com/v1/PodMonitor': (d) => new PodMonitor(d as never),
  'monitoring.coreos.com/v1/PrometheusRule': (d) => new PrometheusRule(d as never),
}

/** The kinds checkK8sDocument knows. */
export const K8S_KINDS = Object.keys(MODELS)

/** Throws `<kind>/<name>: <what is wrong>` unless the document validates against its schema. */
export function checkK8sDocument(doc: unknown): void {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new Error(`not a Kubernetes object: ${JSON.stringify(doc)}`)
  const d = doc as Record<string, unknown>
  const key = `${String(d.apiVersion)}/${String(d.kind)}`
  const model = MODELS[key]
  if (!model) throw new Error(`no schema for ${key} (known: ${K8S_KINDS.join(', ')})`)
  const name = (d.metadata as { name?: unknown } | undefined)?.name
  try {
    model(d).validate()
  } catch (err) {
    throw new Error(`${key} ${String(name)}: ${(err as Error).message}`)
  }
}

export interface K8sDoc {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string> }
  // biome-ignore lint/suspicious/noExplicitAny: a manifest's spec is walked by the tests as parsed
  [key: string]: any
}

/** Every document of the k8s/*.yaml files among `files` (path -> text), in file order. */
export function k8sDocuments(files: readonly { path: string; text: string }[]): K8sDoc[] {
  return files
    .filter((f) => f.path.startsWith('k8s/'))
    .flatMap((f) => parseAllDocuments(f.text).map((d) => d.toJS() as K8sDoc))
}
