// The per-request metrics of design.md "Metric contract", named as the OTel GenAI semantic
// conventions render in Prometheus (shared/research/gateways.md §3: gen_ai.server.request.duration
// -> gen_ai_server_request_duration_seconds, gen_ai.client.token.usage -> gen_ai_client_token_usage).
import { Gauge, Histogram, type LabelValues, type Registry } from 'prom-client'

/** Durations and TTFT: 1 ms up to 20 min — resolves 5 ms TTFTs and 10-minute long-context
 * requests (design.md), and has the common SLO points (0.5, 1, 2, 2.5, 5 s) as boundaries. */
export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 2, 2.5, 5, 7.5, 10, 15,
  20, 30, 60, 120, 300, 600, 1200,
]

/** Time per output token: vLLM's inter-token buckets (engines.md §1.2) plus the sub-10 ms range
 * small models on big GPUs reach. */
export const TPOT_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2,
  0.3, 0.4, 0.5, 0.75, 1, 2.5,
]

/** Token counts: OTel's powers of 4 up to 1M, the default context-class thresholds (32768,
 * 100000), Qwen3-4B's 262144 context, and the configured thresholds when they differ. */
export const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 100000, 131072, 200000, 262144, 524288,
  1048576,
]

export interface ContextClasses {
  mediumFromTokens: number
  longFromTokens: number
}

export function tokenBuckets(classes: ContextClasses): number[] {
  const all = new Set([...TOKEN_BUCKETS, classes.mediumFromTokens, classes.longFromTokens])
  return [...all].sort((a, b) => a - b)
}

const BASE = [
  'gen_ai_operation_name',
  'gen_ai_request_model',
  'gen_ai_provider_name',
  'context_class',
] as const

type Base = (typeof BASE)[number]

/** observe() on the labelled child for these label values (cached per value tuple). */
export type Observe<T extends string> = (labels: LabelValues<T>, value: number) => void

export interface MeterMetrics {
  duration: Observe<Base | 'error_type'>
  ttft: Observe<Base>
  tpot: Observe<Base>
  tokens: Observe<Base | 'gen_ai_token_type'>
  inFlight: Gauge<'gen_ai_request_model' | 'context_class'>
}

/**
 * prom-client's observe(labels, v) validates and hashes the labels on every call (~6 µs); its
 * labelled child skips part of that (~1.6 µs). Children are cached by their label values, which are
 * bounded (see meter.ts), and the meter's histograms are never reset, so a child never goes stale.
 */
function cachedObserve<T extends string>(h: Histogram<T>, names: readonly T[]): Observe<T> {
  const children = new Map<string, Histogram.Internal<T>>()
  return (labels, value) => {
    let key = ''
    for (const n of names) key += `${labels[n]}\u0000`
    let child = children.get(key)
    if (!child) {
      child = h.labels(labels)
      children.set(key, child)
    }
    child.observe(value)
  }
}

export function registerMeterMetrics(registry: Registry, classes: ContextClasses): MeterMetrics {
  const registers = [registry]
  const durationNames = [...BASE, 'error_type'] as const
  const tokenNames = [...BASE, 'gen_ai_token_type'] as const
  const duration = cachedObserve(
    new Histogram({
      name: 'gen_ai_server_request_duration_seconds',
      help: 'LLM request duration, arrival at the proxy to the last byte (or the failure).',
      labelNames: durationNames,
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    durationNames,
  )
  const ttft = cachedObserve(
    new Histogram({
      name: 'gen_ai_server_time_to_first_token_seconds',
      help: 'Time from arrival to the first response chunk carrying generated content (streamed successes).',
      labelNames: [...BASE],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    BASE,
  )
  const tpot = cachedObserve(
    new Histogram({
      name: 'gen_ai_server_time_per_output_token_seconds',
      help: 'Time per output token after the first: (duration - TTFT) / (output tokens - 1), streamed successes.',
      labelNames: [...BASE],
      buckets: TPOT_BUCKETS_SECONDS,
      registers,
    }),
    BASE,
  )
  const tokens = cachedObserve(
    new Histogram({
      name: 'gen_ai_client_token_usage',
      help: 'Tokens per successful request: input (prompt) and output; the engine count when reported.',
      labelNames: tokenNames,
      buckets: tokenBuckets(classes),
      registers,
    }),
    tokenNames,
  )
  return {
    duration,
    ttft,
    tpot,
    tokens,
    inFlight: new Gauge({
      name: 'inferwatch_requests_in_flight',
      // design.md's table says "model": its legend makes that gen_ai_request_model.
      help: 'LLM requests in flight through the proxy, by model and context class (unknown while being worked out).',
      labelNames: ['gen_ai_request_model', 'context_class'],
      registers,
    }),
  }
}
