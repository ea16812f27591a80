import type { Config } from '../config/index.js'

// What `up --demo` simulates, and how its timing scales with --speed.
//
// The card: an L40S (48 GB) at --gpu-memory-utilization 0.85 running Qwen3-4B-Instruct-2507.
// `inferwatch plan --gpu l40s --gpu-memory-utilization 0.85` gives a KV budget of about 213,000
// tokens, so one 104,000-token prompt fits with room for chat while two of them nearly fill it;
// the default RTX 4090 D at 0.9 holds about 92,000 tokens, not even one prompt over 100K. At 0.85
// nvidia-smi reads about 86 % of the card at rest, under the 92 % LLMGPUMemoryHigh threshold, so
// only the "other process" leak of the demo makes it fire.
export const DEMO_SIM = {
  engine: 'vllm',
  model: 'qwen3-4b-instruct-2507',
  gpu: 'l40s',
  gpuMemoryUtilization: 0.85,
  maxModelLen: 131_072,
} as const

/** Longest `for` the demo keeps (seconds, before --speed): every alert can fire in a phase. */
const MAX_FOR_S = 60
const SCRAPE_S = 5

export interface DemoTiming {
  speed: number
  /** Prometheus scrape and evaluation interval, wall seconds. */
  scrapeS: number
  /** Each alert's `for`, wall seconds. */
  forS: (alert: string) => number
  /** From an alert firing in Prometheus to Alertmanager's notification, wall seconds: the next
   * evaluation sends it, then the group waits `group_wait`. An alert resolved sooner is never
   * notified (https://prometheus.io/docs/alerting/latest/configuration/#route). */
  notifyS: number
}

const FOR_KEYS: Record<string, keyof Config['alerts']> = {
  LLMGPUMemoryHigh: 'gpuMemoryHigh',
  LLMKVCacheHigh: 'kvCacheHigh',
  LLMQueueTimeHigh: 'queueTimeHigh',
  LLMBacklogHigh: 'backlogHigh',
  LLMLongContextOverload: 'longContextOverload',
  LLMHighErrorRate: 'highErrorRate',
  LLMSlowTimeToFirstToken: 'slowTimeToFirstToken',
  LLMEngineDown: 'engineDown',
  LLMPreemptions: 'preemptions',
  InferwatchTargetMissing: 'targetMissing',
}

const scaled = (s: number, speed: number, min = 1) =>
  s === 0 ? 0 : Math.max(min, Math.round(s / speed))

/**
 * Config keys the demo sets over the user's: 5 s scrapes and evaluations, every `for` capped at
 * 60 s, Alertmanager grouping in seconds, all divided by --speed (at least 1 s); health probe and
 * GPU reads keep pace. Returned as a config object for parseConfig.
 */
export function demoConfig(user: Readonly<Config>, upstream: string, speed: number): unknown {
  const alerts: Record<string, unknown> = { ...user.alerts }
  for (const [key, a] of Object.entries(user.alerts)) {
    if (
      a &&
      typeof a === 'object' &&
      typeof (a as { forSeconds?: unknown }).forSeconds === 'number'
    ) {
      const s = (a as { forSeconds: number }).forSeconds
      alerts[key] = { ...a, forSeconds: scaled(Math.min(s, MAX_FOR_S), speed) }
    }
  }
  const every = scaled(SCRAPE_S, speed)
  const gpuMs = Math.max(250, Math.round(5000 / speed))
  return {
    ...user,
    upstream,
    engine: DEMO_SIM.engine,
    engines: [],
    gpuMemoryUtilization: DEMO_SIM.gpuMemoryUtilization,
    prometheus: {
      ...user.prometheus,
      scrapeIntervalSeconds: every,
      engineScrapeIntervalSeconds: every,
      evaluationIntervalSeconds: every,
    },
    alertmanager: {
      ...user.alertmanager,
      groupWaitSeconds: scaled(10, speed),
      groupIntervalSeconds: scaled(30, speed),
    },
    alerts,
    proxy: { ...user.proxy, healthIntervalMs: Math.max(250, Math.round(5000 / speed)) },
    gpu: {
      ...user.gpu,
      enabled: true,
      intervalMs: gpuMs,
      timeoutMs: Math.max(200, Math.min(4000, gpuMs - 50)),
      processes: true,
    },
  }
}

/** The timing a demo config resolves to (the test profile shortens it further). */
export function demoTiming(config: Readonly<Config>, speed: number): DemoTiming {
  const test = config.alerts.profile === 'test'
  return {
    speed,
    scrapeS: test ? 1 : config.prometheus.scrapeIntervalSeconds,
    forS: (alert) => {
      const key = FOR_KEYS[alert]
      const s = key ? (config.alerts[key] as { forSeconds: number }).forSeconds : 0
      return test ? Math.min(s, 2) : s
    },
    notifyS:
      (test ? 1 : config.alertmanager.groupWaitSeconds) +
      2 * (test ? 1 : config.prometheus.evaluationIntervalSeconds),
  }
}
