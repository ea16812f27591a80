// vLLM's /metrics (V1 engine, https://github.com/vllm-project/vllm/blob/main/vllm/v1/metrics/loggers.py,
// https://docs.vllm.ai/en/latest/usage/metrics.html) in the names the simulated release exported
// (_dialects.ts), plus the HTTP metrics of prometheus-fastapi-instrumentator, which vLLM mounts
// on the same registry without the health and metrics routes, and the process_* collector.
// Help texts, types, label sets and buckets as vLLM defines them; durations in simulated seconds.
import type { VllmDialect } from './_dialects.js'
import type { EngineMetrics, HttpEvent, MetricsContext } from './_engine-metrics.js'
import { buckets125, Histogram, type Labels, PythonWriter } from './_prom.js'

const TTFT = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
  160, 640, 2560,
]
const ITL = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
]
const LATENCY = [
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
]
const ITERATION = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]
/** Early V1: the default CUDA-graph capture sizes, 1, 2, 4 then every 8 up to 512. */
const CUDAGRAPH = [1, 2, 4, ...Array.from({ length: 64 }, (_, i) => 8 * (i + 1))]
const HTTP_LOWR = [0.1, 0.5, 1]
const HTTP_HIGHR = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 7.5, 10, 30,
  60,
]
/** Routes prometheus-fastapi-instrumentator leaves out in vLLM's api_server. */
const UNMETERED = new Set(['/metrics', '/health', '/load', '/ping', '/version', '/server_info'])
const REASONS = ['stop', 'length', 'abort'] as const

export function createVllmMetrics(ctx: MetricsContext, d: VllmDialect): EngineMetrics {
  const base: Labels = d.engineLabel
    ? { model_name: ctx.model, engine: '0' }
    : { model_name: ctx.model }
  const tokens125 = buckets125(ctx.maxModelLen)
  const h = {
    ttft: new Histogram(TTFT),
    itl: new Histogram(ITL),
    tpot: new Histogram(ITL),
    reqTpot: new Histogram(ITL),
    e2e: new Histogram(LATENCY),
    queue: new Histogram(LATENCY),
    inference: new Histogram(LATENCY),
    prefill: new Histogram(LATENCY),
    decode: new Histogram(LATENCY),
    promptTokens: new Histogram(tokens125),
    generationTokens: new Histogram(tokens125),
    maxGeneration: new Histogram(tokens125),
    paramsN: new Histogram([1, 2, 5, 10, 20]),
    paramsMaxTokens: new Histogram(tokens125),
    iteration: new Histogram(d.iterationBuckets === 'cudagraph' ? CUDAGRAPH : ITERATION),
  }
  const c = { prompt: 0, generation: 0, preemptions: 0, queries: 0, hits: 0 }
  const success: Record<string, number> = { stop: 0, length: 0, abort: 0 }
  const httpCount = new Map<string, { labels: Labels; value: number }>()
  const httpLowr = new Map<string, { labels: Labels; value: Histogram }>()
  const httpHighr = new Histogram(HTTP_HIGHR)

  const metrics: EngineMetrics = {
    observer: {
      step(_s, _e, tokens) {
        h.iteration.observe(tokens)
      },
      admitted(_r, queried, hit) {
        c.queries += queried
        c.hits += hit
      },
      firstToken(r) {
        h.ttft.observe((r.firstTokenS ?? 0) - r.arrivalS)
        c.prompt += r.promptTokens
        c.generation++
      },
      token(_r, gap) {
        c.generation++
        if (d.interTokenLatency) h.itl.observe(gap)
        if (d.timePerOutputToken) h.tpot.observe(gap)
      },
      preempted() {
        c.preemptions++
      },
      finished(r) {
        const reason = r.finished ?? 'abort'
        success[reason] = (success[reason] ?? 0) + 1
        const end = r.finishS ?? 0
        const scheduled = r.scheduledS ?? end
        const first = r.firstTokenS ?? end
        h.e2e.observe(end - r.arrivalS)
        h.queue.observe(scheduled - r.arrivalS)
        h.inference.observe(end - scheduled)
        h.prefill.observe(first - scheduled)
        h.decode.observe(end - first)
        h.promptTokens.observe(r.promptTokens)
        h.generationTokens.observe(r.generated)
        h.maxGeneration.observe(r.targetTokens)
        h.paramsN.observe(1)
        h.paramsMaxTokens.observe(r.targetTokens)
        if (d.interTokenLatency && r.generated > 1)
          h.reqTpot.observe((end - first) / (r.generated - 1))
      },
    },
    http(e: HttpEvent) {
      if (UNMETERED.has(e.handler)) return
      const status = `${Math.floor(e.status / 100)}xx`
      const key = `${e.handler} ${e.method} ${status}`
      const entry = httpCount.get(key) ?? {
        labels: { handler: e.handler, method: e.method, status },
        value: 0,
      }
      entry.value++
      httpCount.set(key, entry)
      const lk = `${e.handler} ${e.method}`
      const lowr = httpLowr.get(lk) ?? {
        labels: { handler: e.handler, method: e.method },
        value: new Histogram(HTTP_LOWR),
      }
      lowr.value.observe(e.durationS)
      httpLowr.set(lk, lowr)
      httpHighr.observe(e.durationS)
    },
    arrived() {},
    promptSettled(r, before) {
      if (r.firstTokenS !== undefined) c.prompt += r.promptTokens - before
      if (r.scheduledS !== undefined && r.preemptions === 0) c.queries += r.promptTokens - before
    },
    render(s) {
      const w = new PythonWriter(ctx.startedUnixS)
      const one = (value: number) => [{ labels: base, value }]
      const hist = (x: Histogram) => [{ labels: base, value: x }]
      w.gauge(
        'process_start_time_seconds',
        'Start time of the process since unix epoch in seconds.',
        [{ labels: {}, value: ctx.startedUnixS }],
      )
      w.counter(
        'process_cpu_seconds',
        'Total user and system CPU time spent in seconds.',
        [{ labels: {}, value: Math.round(process.cpuUsage().user / 1e4) / 100 }],
        false,
      )
      w.gauge('process_open_fds', 'Number of open file descriptors.', [{ labels: {}, value: 45 }])
      w.gauge('process_max_fds', 'Maximum number of open file descriptors.', [
        { labels: {}, value: 1048576 },
      ])
      w.counter('http_requests', 'Total number of requests by method, status and handler.', [
        ...httpCount.values(),
      ])
      w.histogram(
        'http_request_duration_highr_seconds',
        'Latency with many buckets but no API specific labels. Made for more accurate percentile calculations. ',
        [{ labels: {}, value: httpHighr }],
      )
      w.histogram(
        'http_request_duration_seconds',
        'Latency with only few buckets by handler. Made to be only used if aggregation by handler is important. ',
        [...httpLowr.values()],
      )
      w.gauge(
        'vllm:num_requests_running',
        'Number of requests in model execution batches.',
        one(s.running),
      )
      w.gauge(
        'vllm:num_requests_waiting',
        'Number of requests waiting to be processed.',
        one(s.waiting),
      )
      if (d.gpuCacheUsagePerc)
        w.gauge(
          'vllm:gpu_cache_usage_perc',
          d.kvCacheUsagePerc
            ? 'GPU KV-cache usage. 1 means 100 percent usage. DEPRECATED: Use vllm:kv_cache_usage_perc instead.'
            : 'GPU KV-cache usage. 1 means 100 percent usage.',
          one(s.kvUsage),
        )
      if (d.kvCacheUsagePerc)
        w.gauge(
          'vllm:kv_cache_usage_perc',
          'KV-cache usage. 1 means 100 percent usage.',
          one(s.kvUsage),
        )
      if (d.gpuPrefixCache === 'blocks') {
        const bs = ctx.blockSize
        w.counter(
          'vllm:gpu_prefix_cache_queries',
          'GPU prefix cache queries, in terms of number of queried blocks.',
          one(Math.ceil(c.queries / bs)),
        )
        w.counter(
          'vllm:gpu_prefix_cache_hits',
          'GPU prefix cache hits, in terms of number of cached blocks.',
          one(Math.floor(c.hits / bs)),
        )
      } else if (d.gpuPrefixCache === 'tokens') {
        w.counter(
          'vllm:gpu_prefix_cache_queries',
          'GPU prefix cache queries, in terms of number of queriedtokens. DEPRECATED: Use vllm:prefix_cache_queries instead.',
          one(c.queries),
        )
        w.counter(
          'vllm:gpu_prefix_cache_hits',
          'GPU prefix cache hits, in terms of number of cached tokens. DEPRECATED: Use vllm:prefix_cache_hits instead.',
          one(c.hits),
        )
      }
      if (d.prefixCache) {
        w.counter(
          'vllm:prefix_cache_queries',
          'Prefix cache queries, in terms of number of queried tokens.',
          one(c.queries),
        )
        w.counter(
          'vllm:prefix_cache_hits',
          'Prefix cache hits, in terms of number of cached tokens.',
          one(c.hits),
        )
      }
      w.counter(
        'vllm:num_preemptions',
        'Cumulative number of preemption from the engine.',
        one(c.preemptions),
      )
      w.counter('vllm:prompt_tokens', 'Number of prefill tokens processed.', one(c.prompt))
      w.counter(
        'vllm:generation_tokens',
        'Number of generation tokens processed.',
        one(c.generation),
      )
      w.counter(
        'vllm:request_success',
        'Count of successfully processed requests.',
        REASONS.map((reason) => ({
          labels: { ...base, finished_reason: reason },
          value: success[reason] ?? 0,
        })),
      )
      w.histogram(
        'vllm:request_prompt_tokens',
        'Number of prefill tokens processed.',
        hist(h.promptTokens),
      )
      w.histogram(
        'vllm:request_generation_tokens',
        'Number of generation tokens processed.',
        hist(h.generationTokens),
      )
      w.histogram(
        'vllm:iteration_tokens_total',
        'Histogram of number of tokens per engine_step.',
        hist(h.iteration),
      )
      w.histogram(
        'vllm:request_max_num_generation_tokens',
        'Histogram of maximum number of requested generation tokens.',
        hist(h.maxGeneration),
      )
      w.histogram('vllm:request_params_n', 'Histogram of the n request parameter.', hist(h.paramsN))
      w.histogram(
        'vllm:request_params_max_tokens',
        'Histogram of the max_tokens request parameter.',
        hist(h.paramsMaxTokens),
      )
      w.histogram(
        'vllm:time_to_first_token_seconds',
        'Histogram of time to first token in seconds.',
        hist(h.ttft),
      )
      if (d.timePerOutputToken)
        w.histogram(
          'vllm:time_per_output_token_seconds',
          d.timePerOutputToken === 'deprecated'
            ? 'Histogram of time per output token in seconds.DEPRECATED: Use vllm:inter_token_latency_seconds instead.'
            : 'Histogram of time per output token in seconds.',
          hist(h.tpot),
        )
      if (d.interTokenLatency) {
        w.histogram(
          'vllm:inter_token_latency_seconds',
          'Histogram of inter-token latency in seconds.',
          hist(h.itl),
        )
        w.histogram(
          'vllm:request_time_per_output_token_seconds',
          'Histogram of time_per_output_token_seconds per request.',
          hist(h.reqTpot),
        )
      }
      w.histogram(
        'vllm:e2e_request_latency_seconds',
        'Histogram of e2e request latency in seconds.',
        hist(h.e2e),
      )
      w.histogram(
        'vllm:request_queue_time_seconds',
        'Histogram of time spent in WAITING phase for request.',
        hist(h.queue),
      )
      w.histogram(
        'vllm:request_inference_time_seconds',
        'Histogram of time spent in RUNNING phase for request.',
        hist(h.inference),
      )
      w.histogram(
        'vllm:request_prefill_time_seconds',
        'Histogram of time spent in PREFILL phase for request.',
        hist(h.prefill),
      )
      w.histogram(
        'vllm:request_decode_time_seconds',
        'Histogram of time spent in DECODE phase for request.',
        hist(h.decode),
      )
      w.gauge('vllm:cache_config_info', 'Information of the LLMEngine CacheConfig', [
        {
          labels: {
            block_size: String(ctx.blockSize),
            cache_dtype: 'auto',
            enable_prefix_caching: 'True',
            gpu_memory_utilization: String(ctx.gpuMemoryUtilization),
            num_cpu_blocks: '0',
            num_gpu_blocks: String(ctx.kvBlocks),
            prefix_caching_hash_algo: 'builtin',
            swap_space: '4',
          },
          value: 1,
        },
      ])
      return w.text()
    },
  }
  return metrics
}
