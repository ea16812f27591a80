import type { Config, HttpUrl } from '../config/index.js'
import { formatHostPort, type HostPort } from '../shared/index.js'

export type EngineType = 'vllm' | 'tgi' | 'sglang' | 'llamacpp'
export type Language = 'zh' | 'en'

export interface EngineTarget {
  type: EngineType
  targets: string[]
  metricsPath: string
  scheme: 'http' | 'https'
  gpuMemoryUtilization: number | undefined
}

export interface AlertThresholds {
  gpuMemoryRatio: number
  kvCacheRatio: number
  queueTimeSeconds: number
  backlogRequests: number
  longContextRatio: number
  errorRatio: number
  ttftP95Seconds: number
  objective: number
  /** LLMKVCacheExhaustionSoon: KV cache full within this many seconds at the 30-minute trend. */
  kvExhaustionWithinSeconds: number
  forSeconds: Record<AlertName, number>
}

export const ALERT_NAMES = [
  'LLMGPUMemoryHigh',
  'LLMKVCacheHigh',
  'LLMQueueTimeHigh',
  'LLMBacklogHigh',
  'LLMLongContextOverload',
  'LLMHighErrorRate',
  'LLMSlowTimeToFirstToken',
  'LLMEngineDown',
  'LLMErrorBudgetBurn',
  'LLMPreemptions',
  'InferwatchTargetMissing',
  'LLMKVCacheExhaustionSoon',
] as const
export type AlertName = (typeof ALERT_NAMES)[number]

/** Everything the renderers need, resolved once from the Config (flags already merged). */
export interface RulesPlan {
  profile: 'default' | 'test'
  language: Language
  runbookUrl: string
  /** host:port of inferwatch's admin server (its /metrics). */
  adminTarget: string
  engines: EngineTarget[]
  nodeExporterTargets: string[]
  dcgmExporterTargets: string[]
  prometheusUrl: HttpUrl
  alertmanagerUrl: HttpUrl
  scrapeIntervalSeconds: number
  engineScrapeIntervalSeconds: number
  evaluationIntervalSeconds: number
  webhookUrl: string
  webhookToken: string | undefined
  webhookTokenFile: string | undefined
  groupWaitSeconds: number
  groupIntervalSeconds: number
  repeatIntervalSeconds: number
  /** Prompt tokens from which a request is "long" (the proxy's context_class="long"). */
  longFromTokens: number
  /** Price per GPU-hour (llm:cost_per_million_tokens:rate5m; no rule when unset) and currency. */
  cost: { gpuHourly: number | undefined; currency: string }
  thresholds: AlertThresholds
  /** Labels every recording rule keeps besides `engine` and `model` (k8s: namespace, job). */
  groupBy: string[]
  /** Scrape jobs of inferwatch's own targets (prometheus.yml, or the k8s ServiceMonitor):
   * InferwatchTargetMissing watches these and no other job of a shared Prometheus. */
  targetJobs: string[]
  /** Bearer token of the admin server: Prometheus sends it when scraping /metrics. */
  adminToken: string | undefined
  /** Where Prometheus reads that token from instead (prometheus.adminTokenFile). */
  adminTokenFile: string | undefined
  k8s: Config['k8s']
  /** What the proxy pods in k8s/ meter with: the same classes and attribution as this config. */
  meter: { contextClasses: Config['contextClasses']; attribution: Config['attribution'] }
}

export interface PlanOverrides {
  /** Type of the default engine at `upstream` (ignored when the config lists `engines`). */
  engine?: EngineType
  language?: Language
  profile?: 'default' | 'test'
  groupBy?: string[]
}

/** `0.0.0.0:9464` -> `127.0.0.1:9464`: a wildcard listen address is not a scrape target. */
function localTarget({ host, port }: HostPort): string {
  const wildcard = host === '0.0.0.0' || host === '::' || host === ''
  return formatHostPort({ host: wildcard ? '127.0.0.1' : host, port })
}

function hostPortOf(url: HttpUrl): string {
  return formatHostPort({ host: url.hostname, port: url.port })
}

export function planRules(config: Readonly<Config>, overrides: PlanOverrides = {}): RulesPlan {
  const a = config.alerts
  const profile = overrides.profile ?? a.profile
  const test = profile === 'test'
  const adminTarget = localTarget(config.admin)
  const defaultType = overrides.engine ?? config.engine
  const engines: EngineTarget[] = config.engines.length
    ? config.engines.map((e) => ({
        type: e.type,
        targets: [...e.targets],
        metricsPath: e.metricsPath,
        scheme: e.scheme,
        gpuMemoryUtilization: e.gpuMemoryUtilization,
      }))
    : [
        {
          type: defaultType,
          targets: [hostPortOf(config.upstream)],
          metricsPath: '/metrics',
          scheme: config.upstream.protocol === 'https:' ? 'https' : 'http',
          // The top-level key is vLLM's --gpu-memory-utilization; other engines set it per entry.
          gpuMemoryUtilization: defaultType === 'vllm' ? config.gpuMemoryUtilization : undefined,
        },
      ]
  // The test profile keeps every expression and threshold; only timing shrinks.
  const f = (s: number, testSeconds: number) => (test ? Math.min(s, testSeconds) : s)
  return {
    profile,
    language: overrides.language ?? a.language,
    runbookUrl: a.runbookUrl,
    adminTarget,
    engines,
    nodeExporterTargets: [...config.nodeExporter.targets],
    dcgmExporterTargets: [...config.dcgmExporter.targets],
    prometheusUrl: config.prometheus.url,
    alertmanagerUrl: config.alertmanager.url,
    scrapeIntervalSeconds: test ? 1 : config.prometheus.scrapeIntervalSeconds,
    engineScrapeIntervalSeconds: test ? 1 : config.prometheus.engineScrapeIntervalSeconds,
    evaluationIntervalSeconds: test ? 1 : config.prometheus.evaluationIntervalSeconds,
    webhookUrl: config.alertmanager.webhookUrl ?? `http://${adminTarget}/hooks/alertmanager`,
    // The hook on the admin server answers to adminToken; with none, to relay.hookToken.
    webhookToken: config.alertmanager.webhookToken ?? config.adminToken ?? config.relay.hookToken,
    webhookTokenFile: config.alertmanager.webhookTokenFile,
    groupWaitSeconds: test ? 1 : config.alertmanager.groupWaitSeconds,
    groupIntervalSeconds: test ? 1 : config.alertmanager.groupIntervalSeconds,
    repeatIntervalSeconds: test ? 3600 : config.alertmanager.repeatIntervalSeconds,
    longFromTokens: config.contextClasses.longFromTokens,
    cost: { gpuHourly: config.cost.gpuHourly, currency: config.cost.currency },
    groupBy: overrides.groupBy ?? ['job', 'instance'],
    // The job names prometheus.yml gives them (engines carry `engine`: LLMEngineDown).
    targetJobs: [
      'inferwatch',
      ...(config.nodeExporter.targets.length ? ['node'] : []),
      ...(config.dcgmExporter.targets.length ? ['dcgm'] : []),
      'prometheus',
      'alertmanager',
    ],
    adminToken: config.adminToken,
    adminTokenFile: config.prometheus.adminTokenFile,
    k8s: config.k8s,
    meter: { contextClasses: config.contextClasses, attribution: config.attribution },
    thresholds: {
      gpuMemoryRatio: a.gpuMemoryHigh.ratio,
      kvCacheRatio: a.kvCacheHigh.ratio,
      queueTimeSeconds: a.queueTimeHigh.seconds,
      backlogRequests: a.backlogHigh.requests,
      longContextRatio: a.longContextOverload.ratio,
      errorRatio: a.highErrorRate.ratio,
      ttftP95Seconds: a.slowTimeToFirstToken.p95Seconds,
      objective: a.errorBudgetBurn.objective,
      kvExhaustionWithinSeconds: a.kvCacheExhaustionSoon.withinSeconds,
      forSeconds: {
        LLMGPUMemoryHigh: f(a.gpuMemoryHigh.forSeconds, 2),
        LLMKVCacheHigh: f(a.kvCacheHigh.forSeconds, 2),
        LLMQueueTimeHigh: f(a.queueTimeHigh.forSeconds, 2),
        LLMBacklogHigh: f(a.backlogHigh.forSeconds, 2),
        LLMLongContextOverload: f(a.longContextOverload.forSeconds, 2),
        LLMHighErrorRate: f(a.highErrorRate.forSeconds, 2),
        LLMSlowTimeToFirstToken: f(a.slowTimeToFirstToken.forSeconds, 2),
        LLMEngineDown: f(a.engineDown.forSeconds, 2),
        LLMErrorBudgetBurn: 0,
        LLMPreemptions: f(a.preemptions.forSeconds, 2),
        InferwatchTargetMissing: f(a.targetMissing.forSeconds, 2),
        LLMKVCacheExhaustionSoon: f(a.kvCacheExhaustionSoon.forSeconds, 2),
      },
    },
  }
}

/** Prometheus duration text for whole seconds: 30 -> 30s, 120 -> 2m, 3600 -> 1h. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s'
  if (seconds % 3600 === 0) return `${seconds / 3600}h`
  if (seconds % 60 === 0) return `${seconds / 60}m`
  return `${seconds}s`
}
