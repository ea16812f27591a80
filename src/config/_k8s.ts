import { z } from 'zod'

// Kubernetes keys for `inferwatch rules` (README: Scale out: Kubernetes). They describe what
// differs between clusters; the rest of k8s/ follows the config (engines, adminToken, alerts).

/** RFC 1123 label (namespaces, port names are a subset): lower case, digits, '-'. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
/** Label keys: an optional DNS-subdomain prefix and a name of at most 63 characters. */
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/

const labels = z.record(
  z.string().regex(LABEL_KEY, 'must be a Kubernetes label key, e.g. release'),
  z.string().regex(LABEL_VALUE, 'must be a Kubernetes label value (63 characters, [A-Za-z0-9-_.])'),
)
const dnsLabel = (what: string) =>
  z.string().max(63).regex(DNS_LABEL, `must be ${what}: lower case letters, digits and '-'`)

const enginePods = (type: string) =>
  z
    .strictObject({
      /** matchLabels of the engine's pods (the PodMonitor's selector). */
      selector: labels.default({ 'app.kubernetes.io/name': type }),
      /** Name of the engine container's API port (it serves /metrics too). */
      port: dnsLabel('a container port name').max(15).default('http'),
      /** Namespaces of the engine pods; default: the PodMonitor's own namespace. */
      namespaces: z.array(dnsLabel('a namespace')).default([]),
    })
    .prefault({})

export const k8sShape = {
  k8s: z
    .strictObject({
      /** metadata.namespace of every generated document; unset: the one `kubectl -n` names. */
      namespace: dnsLabel('a namespace').optional(),
      /** Labels the Prometheus resource selects monitors and rules by. kube-prometheus-stack
       * selects `release: <its Helm release name>` (README: find yours with kubectl). */
      monitorLabels: labels.default({ release: 'kube-prometheus-stack' }),
      /** The proxy image: build it from this repository's Containerfile (none is published). */
      image: z.string().min(1).default('inferwatch:local'),
      /** IfNotPresent uses an image loaded into the nodes (kind load, minikube image load). */
      imagePullPolicy: z.enum(['IfNotPresent', 'Always', 'Never']).default('IfNotPresent'),
      /** Proxy replicas per engine target. */
      replicas: z.int().positive().default(2),
      /** How the PodMonitors find each engine type's pods. */
      engines: z
        .strictObject({
          vllm: enginePods('vllm'),
          tgi: enginePods('tgi'),
          sglang: enginePods('sglang'),
          llamacpp: enginePods('llamacpp'),
        })
        .prefault({}),
    })
    .prefault({}),
}
