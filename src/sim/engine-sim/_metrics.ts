// The simulator's /metrics in vLLM's names, types, labels (`engine="0"`, `model_name`) and bucket
// layouts (https://github.com/vllm-project/vllm/blob/main/vllm/v1/metrics/loggers.py;
// https://docs.vllm.ai/en/latest/usage/metrics.html). The names follow the release: before 0.10
// `vllm:gpu_cache_usage_perc` and `vllm:time_per_output_token_seconds`; 0.10 exports both the old
// and the new names; later releases `vllm:kv_cache_usage_perc` and
// `vllm:inter_token_latency_seconds`. One prom-client Registry per simulator (and per restart).
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { FinishReason, SchedulerStats, SimRequestState } from './_scheduler.js'

export const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
  40.0, 80.0, 160.0, 640.0, 2560.0,
]
export const ITL_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
  40.0, 80.0,
]
export const REQUEST_LATENCY_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
  480.0, 960.0, 1920.0, 7680.0,
]

/** vLLM's build_1_2_5_buckets(max): 1, 2, 5, 10, 20, 50, ... up to `max`. */
export function buckets125(max: number): number[] {
  const out: number[] = []
  for (let e = 1; ; e *= 10) {
    for (const m of [1, 2, 5]) {
      if (m * e > max) return out
      out.push(m * e)
    }
  }
}

export interface MetricNames {
  kvUsage: string[]
  perToken: string[]
}

/** Which KV-usage and per-token-latency names a vLLM release exports. */
export function metricNamesFor(engineVersion: string | undefined): MetricNames {
  const m = /^(\d+)\.(\d+)/.exec(engineVersion ?? '')
  const major = m ? Number(m[1]) : Number.POSITIVE_INFINITY
  const minor = m ? Number(m[2]) : 0
  const older = major === 0 && minor < 10
  const both = major === 0 && minor === 10
  const oldKv = 'vllm:gpu_cache_usage_perc'
  const newKv = 'vllm:kv_cache_usage_perc'
  const oldTok = 'vllm:time_per_output_token_seconds'
  const newTok = 'vllm:inter_token_latency_seconds'
  if (older) return { kvUsage: [oldKv], perToken: [oldTok] }
  if (both) return { kvUsage: [newKv, oldKv], perToken: [newTok, oldTok] }
  return { kvUsage: [newKv], perToken: [newTok] }
}

export interface EngineMetrics {
  registry: Registry
  recordFinished(s: SimRequestState, reason: FinishReason): void
}

export interface EngineMetricsOptions {
  model: string
  engineVersion: string | undefined
  maxModelLen: number
  blockSize: number
  numGpuBlocks: number
  gpuMemoryUtilization: number
  stats(): SchedulerStats
}

export function createEngineMetrics(o: EngineMetricsOptions): EngineMetrics {
  const registry = new Registry()
  const labels = { engine: '0', model_name: o.model }
  const labelNames = ['engine', 'model_name'] as const
  const names = metricNamesFor(o.engineVersion)
  const registers = [registry]
  let seenPreemptions = 0

  new Gauge({
    name: 'vllm:cache_config_info',
    help: 'Information of the LLMEngine CacheConfig',
    labelNames: [
      'block_size',
      'cache_dtype',
      'calculate_kv_scales',
      'enable_prefix_caching',
      'gpu_memory_utilization',
      'num_cpu_blocks',
      'num_gpu_blocks',
      'prefix_caching_hash_algo',
      'swap_space',
    ],
    registers,
  }).set(
    {
      block_size: String(o.blockSize),
      cache_dtype: 'auto',
      calculate_kv_scales: 'False',
      enable_prefix_caching: 'True',
      gpu_memory_utilization: String(o.gpuMemoryUtilization),
      num_cpu_blocks: '0',
      num_gpu_blocks: String(o.numGpuBlocks),
      prefix_caching_hash_algo: 'builtin',
      swap_space: '4',
    },
    1,
  )
  const gauge = (name: string, help: string, read: (s: SchedulerStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.set(labels, read(o.stats()))
      },
    })
  gauge(
    'vllm:num_requests_running',
    'Number of requests in model execution batches.',
    (s) => s.running,
  )
  gauge(
    'vllm:num_requests_waiting',
    'Number of requests waiting to be processed.',
    (s) => s.waiting,
  )
  const kvUsage = (s: SchedulerStats) => (o.numGpuBlocks > 0 ? s.usedBlocks / o.numGpuBlocks : 0)
  for (const name of names.kvUsage)
    gauge(
      name,
      name === 'vllm:kv_cache_usage_perc'
        ? 'KV-cache usage. 1 means 100 percent usage.'
        : 'GPU KV-cache usage. 1 means 100 percent usage.',
      kvUsage,
    )
  new Counter({
    name: 'vllm:num_preemptions_total',
    help: 'Cumulative number of preemption from the engine.',
    labelNames,
    registers,
    collect() {
      const now = o.stats().preemptions
      if (now > seenPreemptions) this.inc(labels, now - seenPreemptions)
      seenPreemptions = now
    },
  }).inc(labels, 0)
  const counter = (name: string, help: string, extra: readonly string[] = []) =>
    new Counter({ name, help, labelNames: [...labelNames, ...extra], registers })
  const promptTokens = counter('vllm:prompt_tokens_total', 'Number of prefill tokens processed.')
  const generationTokens = counter(
    'vllm:generation_tokens_total',
    'Number of generation tokens processed.',
  )
  promptTokens.inc(labels, 0)
  generationTokens.inc(labels, 0)
  const success = counter(
    'vllm:request_success_total',
    'Count of successfully processed requests.',
    ['finished_reason'],
  )
  for (const finished_reason of ['stop', 'length', 'abort'])
    success.inc({ ...labels, finished_reason }, 0)
  const histogram = (name: string, help: string, buckets: number[]) =>
    new Histogram({ name, help, labelNames, buckets, registers })
  const ttft = histogram(
    'vllm:time_to_first_token_seconds',
    'Histogram of time to first token in seconds.',
    TTFT_BUCKETS,
  )
  const perToken = names.perToken.map((name) =>
    histogram(
      name,
      name === 'vllm:inter_token_latency_seconds'
        ? 'Histogram of inter-token latency in seconds.'
        : 'Histogram of time per output token in seconds.',
      ITL_BUCKETS,
    ),
  )
  const e2e = histogram(
    'vllm:e2e_request_latency_seconds',
    'Histogram of e2e request latency in seconds.',
    REQUEST_LATENCY_BUCKETS,
  )
  const queue = histogram(
    'vllm:request_queue_time_seconds',
    'Histogram of time spent in WAITING phase for request.',
    REQUEST_LATENCY_BUCKETS,
  )
  const prefill = histogram(
    'vllm:request_prefill_time_seconds',
    'Histogram of time spent in PREFILL phase for request.',
    REQUEST_LATENCY_BUCKETS,
  )
  const decode = histogram(
    'vllm:request_decode_time_seconds',
    'Histogram of time spent in DECODE phase for request.',
    REQUEST_LATENCY_BUCKETS,
  )
  const promptHist = histogram(
    'vllm:request_prompt_tokens',
    'Number of prefill tokens processed.',
    buckets125(o.maxModelLen),
  )
  const genHist = histogram(
    'vllm:request_generation_tokens',
    'Number of generation tokens processed.',
    buckets125(o.maxModelLen),
  )

  return {
    registry,
    recordFinished(s, reason) {
      const arrival = s.req.arrivalS
      const scheduled = s.firstScheduledS ?? arrival
      const first = s.firstTokenS ?? arrival
      const end = s.finishS ?? first
      promptTokens.inc(labels, s.req.promptTokens)
      generationTokens.inc(labels, s.generated)
      success.inc({ ...labels, finished_reason: reason })
      ttft.observe(labels, first - arrival)
      for (const h of perToken) for (const g of s.gapsS) h.observe(labels, g)
      e2e.observe(labels, end - arrival)
      queue.observe(labels, Math.max(0, scheduled - arrival))
      prefill.observe(labels, Math.max(0, first - scheduled))
      decode.observe(labels, Math.max(0, end - first))
      promptHist.observe(labels, s.req.promptTokens)
      genHist.observe(labels, s.generated)
    },
  }
}
