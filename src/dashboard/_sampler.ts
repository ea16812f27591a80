import type { Registry } from 'prom-client'
import type { Logger } from '../shared/index.js'

// With no Prometheus, the page still shows live numbers: the process's own registry, read every
// few seconds and kept in memory for the last hour (plus the 5-minute window the oldest points
// need). Only aggregates are kept: a few counters, three histograms and the GPU gauges.

/** Seconds of history the page can show from memory. */
export const LOCAL_WINDOW_SECONDS = 3600
const KEEP_SECONDS = LOCAL_WINDOW_SECONDS + 300

/** Cumulative bucket counts of one histogram, summed over its series, by upper bound. */
export interface BucketCounts {
  les: number[]
  counts: number[]
}

export interface Snapshot {
  /** Unix seconds. */
  t: number
  /** Counters: req, err, long, class:<name>, tok:input, tok:output. */
  counters: Map<string, number>
  hist: Map<'dur' | 'ttft' | 'tpot', BucketCounts>
  /** GPU memory used / limit, by `gpu` and `hw_name`. */
  gpus: { labels: Record<string, string>; value: number }[]
}

/** Server-side failures, as the llm:request_errors:* rules count them. */
const SERVER_ERROR = /^(5..|429|upstream_.*)$/

interface MetricJson {
  name: string
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[]
}

const HISTOGRAMS: Record<string, 'dur' | 'ttft' | 'tpot'> = {
  gen_ai_server_request_duration_seconds: 'dur',
  gen_ai_server_time_to_first_token_seconds: 'ttft',
  gen_ai_server_time_per_output_token_seconds: 'tpot',
}

function addBucket(hist: Snapshot['hist'], key: 'dur' | 'ttft' | 'tpot', le: number, n: number) {
  let b = hist.get(key)
  if (!b) {
    b = { les: [], counts: [] }
    hist.set(key, b)
  }
  const i = b.les.indexOf(le)
  if (i >= 0) b.counts[i] = (b.counts[i] ?? 0) + n
  else {
    b.les.push(le)
    b.counts.push(n)
  }
}

/** One snapshot from prom-client's getMetricsAsJSON(). */
export function snapshotOf(metrics: readonly MetricJson[], t: number): Snapshot {
  const counters = new Map<string, number>()
  const add = (k: string, v: number) => counters.set(k, (counters.get(k) ?? 0) + v)
  const hist: Snapshot['hist'] = new Map()
  type Gpu = { labels: Record<string, string>; used?: number; limit?: number }
  const used = new Map<string, Gpu>()
  for (const m of metrics) {
    const h = HISTOGRAMS[m.name]
    for (const v of m.values) {
      const l = v.labels
      if (h && v.metricName === `${m.name}_bucket`) {
        if (h === 'dur' && (l.error_type ?? '') !== '') continue
        addBucket(hist, h, l.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(l.le), v.value)
      } else if (h === 'dur' && v.metricName === `${m.name}_count`) {
        add('req', v.value)
        if (SERVER_ERROR.test(String(l.error_type ?? ''))) add('err', v.value)
        if (l.context_class === 'long') add('long', v.value)
        add(`class:${String(l.context_class ?? 'unknown')}`, v.value)
      } else if (m.name === 'gen_ai_client_token_usage' && v.metricName === `${m.name}_sum`) {
        add(`tok:${String(l.gen_ai_token_type)}`, v.value)
      } else if (m.name === 'hw_gpu_memory_usage_bytes' || m.name === 'hw_gpu_memory_limit_bytes') {
        const labels = { gpu: String(l.gpu ?? ''), hw_name: String(l.hw_name ?? '') }
        const key = `${labels.gpu}\u0000${String(l.hw_id ?? '')}`
        const e: Gpu = used.get(key) ?? { labels }
        if (m.name === 'hw_gpu_memory_usage_bytes') e.used = v.value
        else e.limit = v.value
        used.set(key, e)
      }
    }
  }
  for (const b of hist.values()) {
    const order = b.les.map((_, i) => i).sort((x, y) => (b.les[x] ?? 0) - (b.les[y] ?? 0))
    b.les = order.map((i) => b.les[i] ?? 0)
    b.counts = order.map((i) => b.counts[i] ?? 0)
  }
  const gpus = [...used.values()].flatMap((e) =>
    e.used !== undefined && e.limit ? [{ labels: e.labels, value: e.used / e.limit }] : [],
  )
  return { t, counters, hist, gpus }
}

export interface LocalSampler {
  /** Oldest first. */
  snapshots(): readonly Snapshot[]
  /** Takes a snapshot now (also what the timer does). */
  sample(): Promise<void>
  intervalSeconds: number
  close(): Promise<void>
}

export interface LocalSamplerOptions {
  registry: Registry
  intervalMs?: number
  /** Unix milliseconds. */
  now?: () => number
  logger: Logger
}

export function startLocalSampler(options: LocalSamplerOptions): LocalSampler {
  const intervalMs = options.intervalMs ?? 5000
  const now = options.now ?? Date.now
  const ring: Snapshot[] = []
  let warned = false
  let pending: Promise<void> | undefined
  const sample = async () => {
    try {
      const metrics = (await options.registry.getMetricsAsJSON()) as unknown as MetricJson[]
      const t = now() / 1000
      ring.push(snapshotOf(metrics, t))
      while (ring.length > 0 && (ring[0]?.t ?? t) < t - KEEP_SECONDS) ring.shift()
    } catch (err) {
      if (!warned) options.logger.warn('dashboard: reading the metrics registry failed', { err })
      warned = true
    }
  }
  const timer = setInterval(() => {
    pending = sample()
  }, intervalMs)
  timer.unref()
  pending = sample()
  return {
    snapshots: () => ring,
    sample: () => {
      pending = sample()
      return pending
    },
    intervalSeconds: intervalMs / 1000,
    close: async () => {
      clearInterval(timer)
      await pending
    },
  }
}
