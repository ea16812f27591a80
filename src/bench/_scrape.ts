// The monitoring cross-check: scrape each --metrics URL (the inferwatch proxy's admin /metrics or
// an engine's own) before and after the measured requests, and sample its gauges during the run.
// Counters and histograms are read as deltas, so whatever else the server did before the run
// does not count. Names per engine: vLLM
// (https://docs.vllm.ai/en/latest/design/metrics.html), SGLang
// (https://docs.sglang.ai/references/production_metrics.html), TGI (router/src/server.rs),
// llama.cpp (tools/server/README.md, --metrics), inferwatch's own gen_ai_* (README: Metrics).
import {
  detectMetricPrefixes,
  type PromExposition,
  type PromSample,
  parsePrometheusText,
} from '../engines/index.js'
import { AppError } from '../shared/index.js'

export type SourceKind = 'inferwatch' | 'vllm' | 'sglang' | 'tgi' | 'llamacpp' | 'unknown'

/** Cumulative histogram: `le` upper bounds (ascending, +Inf last) and counts. */
export interface Buckets {
  le: number[]
  counts: number[]
  sum: number
  count: number
}

export interface Reading {
  requests?: number
  errors?: number
  inputTokens?: number
  outputTokens?: number
  prefixHits?: number
  prefixQueries?: number
  preemptions?: number
  ttft?: Buckets
  e2e?: Buckets
}

export interface Gauges {
  kvUsage?: number
  running?: number
  waiting?: number
}

interface Names {
  requests?: string[]
  errors?: { name: string; notEmpty: string }
  requestsFilter?: Record<string, string>
  inputTokens?: string[]
  inputTokensFilter?: Record<string, string>
  outputTokens?: string[]
  outputTokensFilter?: Record<string, string>
  prefixHits?: string[]
  prefixQueries?: string[]
  preemptions?: string[]
  ttft?: string[]
  e2e?: string[]
  e2eFilter?: Record<string, string>
  kvUsage?: string[]
  running?: string[]
  waiting?: string[]
}

const NAMES: Record<SourceKind, Names> = {
  inferwatch: {
    requests: ['gen_ai_server_request_duration_seconds_count'],
    requestsFilter: { error_type: '' },
    errors: { name: 'gen_ai_server_request_duration_seconds_count', notEmpty: 'error_type' },
    inputTokens: ['gen_ai_client_token_usage_sum'],
    inputTokensFilter: { gen_ai_token_type: 'input' },
    outputTokens: ['gen_ai_client_token_usage_sum'],
    outputTokensFilter: { gen_ai_token_type: 'output' },
    ttft: ['gen_ai_server_time_to_first_token_seconds'],
    e2e: ['gen_ai_server_request_duration_seconds'],
    e2eFilter: { error_type: '' },
  },
  vllm: {
    requests: ['vllm:request_success_total', 'vllm:request_success'],
    inputTokens: ['vllm:prompt_tokens_total', 'vllm:prompt_tokens'],
    outputTokens: ['vllm:generation_tokens_total', 'vllm:generation_tokens'],
    prefixHits: ['vllm:prefix_cache_hits_total', 'vllm:gpu_prefix_cache_hits_total'],
    prefixQueries: ['vllm:prefix_cache_queries_total', 'vllm:gpu_prefix_cache_queries_total'],
    preemptions: ['vllm:num_preemptions_total'],
    ttft: ['vllm:time_to_first_token_seconds'],
    e2e: ['vllm:e2e_request_latency_seconds'],
    kvUsage: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
    running: ['vllm:num_requests_running'],
    waiting: ['vllm:num_requests_waiting'],
  },
  sglang: {
    requests: ['sglang:num_requests_total'],
    inputTokens: ['sglang:prompt_tokens_total'],
    outputTokens: ['sglang:generation_tokens_total'],
    prefixHits: ['sglang:cached_tokens_total'],
    prefixQueries: ['sglang:prompt_tokens_total'],
    preemptions: ['sglang:num_retracted_requests_total', 'sglang:num_retractions_total'],
    ttft: ['sglang:time_to_first_token_seconds'],
    e2e: ['sglang:e2e_request_latency_seconds'],
    kvUsage: ['sglang:token_usage'],
    running: ['sglang:num_running_reqs'],
    waiting: ['sglang:num_queue_reqs'],
  },
  tgi: {
    requests: ['tgi_request_success'],
    inputTokens: ['tgi_request_input_length_sum'],
    outputTokens: ['tgi_request_generated_tokens_sum'],
    e2e: ['tgi_request_duration'],
    running: ['tgi_batch_current_size'],
    waiting: ['tgi_queue_size'],
  },
  llamacpp: {
    inputTokens: ['llamacpp:prompt_tokens_total'],
    outputTokens: ['llamacpp:tokens_predicted_total'],
    kvUsage: ['llamacpp:kv_cache_usage_ratio'],
    running: ['llamacpp:requests_processing'],
    waiting: ['llamacpp:requests_deferred'],
  },
  unknown: {},
}

export function detectSource(x: PromExposition): SourceKind {
  if (x.samples.some((s) => s.name.startsWith('gen_ai_server_'))) return 'inferwatch'
  const prefixes = detectMetricPrefixes(x)
  if (prefixes.includes('vllm:')) return 'vllm'
  if (prefixes.includes('sglang:')) return 'sglang'
  if (prefixes.includes('tgi_')) return 'tgi'
  if (prefixes.includes('llamacpp:')) return 'llamacpp'
  return 'unknown'
}

const matches = (s: PromSample, filter: Record<string, string> | undefined) =>
  !filter || Object.entries(filter).every(([k, v]) => (s.labels[k] ?? '') === v)

function sum(x: PromExposition, names: string[] | undefined, filter?: Record<string, string>) {
  for (const name of names ?? []) {
    const found = x.samples.filter((s) => s.name === name && matches(s, filter))
    if (found.length) return found.reduce((a, s) => a + s.value, 0)
  }
  return undefined
}

function buckets(x: PromExposition, names: string[] | undefined, filter?: Record<string, string>) {
  for (const name of names ?? []) {
    const byLe = new Map<number, number>()
    for (const s of x.samples) {
      if (s.name !== `${name}_bucket` || !matches(s, filter)) continue
      const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le)
      byLe.set(le, (byLe.get(le) ?? 0) + s.value)
    }
    if (byLe.size === 0) continue
    const le = [...byLe.keys()].sort((a, b) => a - b)
    return {
      le,
      counts: le.map((b) => byLe.get(b) ?? 0),
      sum: sum(x, [`${name}_sum`], filter) ?? 0,
      count: sum(x, [`${name}_count`], filter) ?? 0,
    }
  }
  return undefined
}

export function readCounters(x: PromExposition, kind: SourceKind): Reading {
  const n = NAMES[kind]
  const r: Reading = {}
  const set = <K extends keyof Reading>(k: K, v: Reading[K] | undefined) => {
    if (v !== undefined) r[k] = v
  }
  set('requests', sum(x, n.requests, n.requestsFilter))
  if (n.errors) {
    const e = n.errors
    set(
      'errors',
      x.samples
        .filter((s) => s.name === e.name && (s.labels[e.notEmpty] ?? '') !== '')
        .reduce((a, s) => a + s.value, 0),
    )
  }
  set('inputTokens', sum(x, n.inputTokens, n.inputTokensFilter))
  set('outputTokens', sum(x, n.outputTokens, n.outputTokensFilter))
  set('prefixHits', sum(x, n.prefixHits))
  set('prefixQueries', sum(x, n.prefixQueries))
  set('preemptions', sum(x, n.preemptions))
  set('ttft', buckets(x, n.ttft))
  set('e2e', buckets(x, n.e2e, n.e2eFilter))
  return r
}

export function readGauges(x: PromExposition, kind: SourceKind): Gauges {
  const n = NAMES[kind]
  const g: Gauges = {}
  const kv = sum(x, n.kvUsage)
  if (kv !== undefined) g.kvUsage = kv
  const running = sum(x, n.running)
  if (running !== undefined) g.running = running
  const waiting = sum(x, n.waiting)
  if (waiting !== undefined) g.waiting = waiting
  return g
}

export function deltaReading(before: Reading, after: Reading): Reading {
  const d: Reading = {}
  for (const k of [
    'requests',
    'errors',
    'inputTokens',
    'outputTokens',
    'prefixHits',
    'prefixQueries',
    'preemptions',
  ] as const) {
    const a = after[k]
    if (a !== undefined) d[k] = a - (before[k] ?? 0)
  }
  for (const k of ['ttft', 'e2e'] as const) {
    const a = after[k]
    if (!a) continue
    const b = before[k]
    d[k] = {
      le: a.le,
      counts: a.counts.map((c, i) => c - (b && b.le[i] === a.le[i] ? (b.counts[i] ?? 0) : 0)),
      sum: a.sum - (b?.sum ?? 0),
      count: a.count - (b?.count ?? 0),
    }
  }
  return d
}

/** Prometheus histogram_quantile: linear within the bucket the rank falls in. */
export function bucketQuantile(b: Buckets, q: number): number {
  const total = b.counts[b.counts.length - 1] ?? 0
  if (total <= 0) return Number.NaN
  const rank = q * total
  for (let i = 0; i < b.le.length; i++) {
    const c = b.counts[i] as number
    if (c >= rank) {
      const upper = b.le[i] as number
      const lower = i === 0 ? 0 : (b.le[i - 1] as number)
      if (upper === Number.POSITIVE_INFINITY) return lower
      const below = i === 0 ? 0 : (b.counts[i - 1] as number)
      return c === below ? upper : lower + ((upper - lower) * (rank - below)) / (c - below)
    }
  }
  return Number.NaN
}

export interface Scraped {
  kind: SourceKind
  exposition: PromExposition
}

export async function scrape(url: string, timeoutMs = 5000): Promise<Scraped> {
  let text: string
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    text = await res.text()
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
  } catch (cause) {
    throw new AppError(
      'BENCH_METRICS_UNREACHABLE',
      `--metrics ${url} did not answer: ${(cause as Error).message}`,
      {
        cause,
        hint: "give the proxy's admin /metrics (e.g. http://127.0.0.1:9464/metrics) or the engine's /metrics",
      },
    )
  }
  const exposition = parsePrometheusText(text)
  return { kind: detectSource(exposition), exposition }
}
