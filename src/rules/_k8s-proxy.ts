import type { EngineType, RulesPlan } from './_plan.js'

// The proxy's Kubernetes objects: one Deployment + Service per engine target, in the "restricted"
// Pod Security profile (https://kubernetes.io/docs/concepts/security/pod-security-standards/).

export const K8S_LABELS = {
  'app.kubernetes.io/name': 'inferwatch',
  'app.kubernetes.io/component': 'proxy',
} as const

/** The Secret holding the admin token (key `token`) when the config sets adminToken. */
export const K8S_TOKEN_SECRET = { name: 'inferwatch-admin', key: 'token' } as const

/** The image's user (Containerfile `USER 1000:1000`, the node image's `node`): numeric, so the
 * kubelet can check runAsNonRoot. */
export const K8S_RUN_AS = 1000

export const K8S_PORTS = { http: 8080, admin: 9464 } as const

/** Each launcher's default API port (vllm serve --port, text-generation-launcher --port,
 * sglang.launch_server --port, llama-server --port); the API port serves /metrics too. */
export const ENGINE_PORTS: Record<EngineType, number> = {
  vllm: 8000,
  tgi: 3000,
  sglang: 30000,
  llamacpp: 8080,
}

export interface ProxyTarget {
  /** Deployment and Service name: inferwatch-<type>[-n]. */
  name: string
  type: EngineType
  upstream: string
  /** The config named a loopback address: in a pod that is the pod itself. */
  replacedLoopback?: string
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|0\.0\.0\.0)$/i

function splitHostPort(target: string): { host: string; port: number | undefined } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(target)
  if (!m) return { host: target, port: undefined }
  return { host: m[1] ?? m[2] ?? target, port: m[3] ? Number(m[3]) : undefined }
}

/** One proxy per engine target (point a target at the engine's Service to front all its pods). */
export function planK8sProxies(plan: RulesPlan): ProxyTarget[] {
  const out: ProxyTarget[] = []
  const seen = new Set<string>()
  const perType = new Map<EngineType, number>()
  for (const e of plan.engines) {
    for (const target of e.targets) {
      const { host, port } = splitHostPort(target)
      const loopback = LOOPBACK.test(host)
      const defaultPort = ENGINE_PORTS[e.type]
      // Loopback: a Service named after the engine type, on the launcher's default port.
      const hostPort = loopback
        ? `${e.type}:${defaultPort}`
        : port === undefined
          ? `${target}:${defaultPort}`
          : target
      const upstream = `${e.scheme}://${hostPort}`
      if (seen.has(upstream)) continue
      seen.add(upstream)
      const n = (perType.get(e.type) ?? 0) + 1
      perType.set(e.type, n)
      out.push({
        name: n === 1 ? `inferwatch-${e.type}` : `inferwatch-${e.type}-${n}`,
        type: e.type,
        upstream,
        ...(loopback ? { replacedLoopback: target } : {}),
      })
    }
  }
  return out
}

/** Restricted profile: non-root, no privilege escalation, no capabilities, RuntimeDefault seccomp. */
const POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: K8S_RUN_AS,
  runAsGroup: K8S_RUN_AS,
  seccompProfile: { type: 'RuntimeDefault' },
}
const CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  // The proxy writes nothing to disk; Node's temp files go to the /tmp emptyDir.
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
}

export function buildProxyObjects(
  plan: RulesPlan,
  p: ProxyTarget,
  meta: (name: string, labels: Record<string, string>) => Record<string, unknown>,
): Record<string, unknown>[] {
  const k = plan.k8s
  const labels = { ...K8S_LABELS, 'app.kubernetes.io/instance': p.name }
  const env = plan.adminToken
    ? [
        {
          // `inferwatch proxy` reads it (README: Configuration, adminToken).
          name: 'INFERWATCH_ADMIN_TOKEN',
          valueFrom: { secretKeyRef: { ...K8S_TOKEN_SECRET } },
        },
      ]
    : []
  const container = {
    name: 'inferwatch',
    image: k.image,
    imagePullPolicy: k.imagePullPolicy,
    args: [
      'proxy',
      '--upstream',
      p.upstream,
      '--listen',
      `0.0.0.0:${K8S_PORTS.http}`,
      '--admin',
      `0.0.0.0:${K8S_PORTS.admin}`,
      '--config',
      '/etc/inferwatch/inferwatch.yaml',
    ],
    ...(env.length ? { env } : {}),
    ports: [
      { name: 'http', containerPort: K8S_PORTS.http },
      { name: 'admin', containerPort: K8S_PORTS.admin },
    ],
    // Ready = the proxy accepts connections: an engine outage then gets the proxy's 502 JSON
    // (and LLMEngineDown), not every replica pulled out of the Service at once.
    readinessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 5 },
    // /healthz needs no token.
    livenessProbe: { httpGet: { path: '/healthz', port: 'admin' }, periodSeconds: 10 },
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
    securityContext: CONTAINER_SECURITY,
    volumeMounts: [
      { name: 'config', mountPath: '/etc/inferwatch', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  }
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(p.name, labels),
      spec: {
        replicas: k.replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: POD_SECURITY,
            containers: [container],
            // Streams get 30 s to finish on SIGTERM (proxy.drainTimeoutMs).
            terminationGracePeriodSeconds: 40,
            volumes: [
              { name: 'config', configMap: { name: 'inferwatch' } },
              { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(p.name, labels),
      spec: {
        selector: labels,
        ports: [
          { name: 'http', port: K8S_PORTS.http, targetPort: 'http' },
          { name: 'admin', port: K8S_PORTS.admin, targetPort: 'admin' },
        ],
      },
    },
  ]
}
