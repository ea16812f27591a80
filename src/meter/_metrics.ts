// The per-request metrics of README: Metrics, named as the OTel GenAI semantic conventions
// (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/) render in Prometheus
// (https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/:
// gen_ai.server.request.duration -> gen_ai_server_request_duration_seconds,
// gen_ai.client.token.usage -> gen_ai_client_token_usage).
import { Gauge, type Registry } from 'prom-client'
import { FastHistogram, LabelTree } from '../shared/index.js'

/** Durations and TTFT: 1 ms up to 20 min — resolves 5 ms TTFTs and 10-minute long-context
 * requests (README: Metrics), and has the common SLO points (0.5, 1, 2, 2.5, 5 s) as boundaries. */
export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 2, 2.5, 5, 7.5, 10, 15,
  20, 30, 60, 120, 300, 600, 1200,
]

/** Time per output token: vLLM's inter-token buckets
 * (https://github.com/vllm-project/vllm/blob/main/vllm/v1/metrics/loggers.py) plus the sub-10 ms
 * range small models on big GPUs reach. */
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

/** LLM requests in flight, counted here and read into the gauge at scrape time (a prom-client
 * inc/dec validates and hashes labels: four of them per request). An exchange holds its cell and
 * moves between cells as its labels become known. */
export interface InFlightCell {
  n: number
}
export interface InFlight {
  /** The count for (model, class), made at first use. */
  cell(model: string, cls: string): InFlightCell
}

export interface MeterMetrics {
  duration: FastHistogram<Base | 'error_type'>
  ttft: FastHistogram<Base>
  tpot: FastHistogram<Base>
  tokens: FastHistogram<Base | 'gen_ai_token_type'>
  inFlight: InFlight
}

export function registerMeterMetrics(
  registry: Registry,
  classes: ContextClasses,
  /** Runs before any of these metrics is read (the meter's queued hooks). */
  beforeRead: () => void = () => {},
): MeterMetrics {
  // In first-seen order (the order prom-client lists the series in).
  const cells = new LabelTree(['model', 'cls'] as const, (l) => ({
    model: l.model,
    cls: l.cls,
    n: 0,
  }))
  const metrics: MeterMetrics = {
    duration: new FastHistogram(
      'gen_ai_server_request_duration_seconds',
      'LLM request duration, arrival at the proxy to the last byte (or the failure).',
      [...BASE, 'error_type'],
      LATENCY_BUCKETS_SECONDS,
      registry,
      beforeRead,
    ),
    ttft: new FastHistogram(
      'gen_ai_server_time_to_first_token_seconds',
      'Time from arrival to the first response chunk carrying generated content (streamed successes).',
      BASE,
      LATENCY_BUCKETS_SECONDS,
      registry,
      beforeRead,
    ),
    tpot: new FastHistogram(
      'gen_ai_server_time_per_output_token_seconds',
      'Time per output token after the first: (duration - TTFT) / (output tokens - 1), streamed successes.',
      BASE,
      TPOT_BUCKETS_SECONDS,
      registry,
      beforeRead,
    ),
    tokens: new FastHistogram(
      'gen_ai_client_token_usage',
      'Tokens per successful request: input (prompt) and output; the engine count when reported.',
      [...BASE, 'gen_ai_token_type'],
      tokenBuckets(classes),
      registry,
      beforeRead,
    ),
    inFlight: {
      cell: (model, cls) => cells.get({ model, cls }),
    },
  }
  // Registered last: the registry renders metrics in registration order.
  new Gauge({
    name: 'inferwatch_requests_in_flight',
    // The label is gen_ai_request_model, not "model" (README: Metrics).
    help: 'LLM requests in flight through the proxy, by model and context class (unknown while being worked out).',
    labelNames: ['gen_ai_request_model', 'context_class'],
    registers: [registry],
    collect() {
      beforeRead()
      for (const { model, cls, n } of cells.all)
        this.set({ gen_ai_request_model: model, context_class: cls }, n)
    },
  })
  return metrics
}
