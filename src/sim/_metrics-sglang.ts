// SGLang's /metrics (--enable-metrics), written by prometheus_client in multiprocess mode
// (tokenizer and scheduler are separate processes): labels sorted, histogram _sum first, no
// *_created, gauges without a multiprocess mode get a `pid` label. Current releases: the
// scheduler and tokenizer collectors of
// https://github.com/sgl-project/sglang/blob/main/python/sglang/srt/metrics/collector.py
// (scheduler series labelled engine_type, tp_rank, pp_rank, moe_ep_rank; tokenizer series
// model_name only). Early releases: the families and buckets of the sample in
// https://docs.sglang.io/references/production_metrics.html.
import type { SglangDialect } from './_dialects.js'
import { type EngineMetrics, type MetricsContext, rateSince } from './_engine-metrics.js'
import { Histogram, type Labels, PythonWriter } from './_prom.js'

const TTFT = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400]
const E2E = [
  0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400,
]
const ITL = [
  0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.06, 0.08, 0.1, 0.2,
  0.4, 0.6, 0.8, 1, 2, 4, 6, 8,
]
const QUEUE = [
  0, 0.1, 0.2, 0.5, 1, 2, 3, 4, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300, 400, 500,
  600, 700, 800, 900, 1000, 1200, 1400, 1600, 1800, 2000, 2500, 3000,
]
const RETRACTIONS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 75, 100]
const EARLY_TTFT = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 15, 20, 25,
  30,
]
const EARLY_E2E = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60]
const EARLY_TPOT = [
  0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1,
  2.5,
]
/** 0.05 x 1.5^k, k = 0..17 (Python: [0.05 * 1.5**i for i in range(18)]). */
const EARLY_FUNC = Array.from({ length: 18 }, (_, i) => 0.05 * 1.5 ** i)

export function createSglangMetrics(ctx: MetricsContext, d: SglangDialect): EngineMetrics {
  const early = d.era === 'early'
  const tok: Labels = { model_name: ctx.model }
  const sched: Labels = early
    ? tok
    : {
        model_name: ctx.model,
        engine_type: 'unified',
        tp_rank: '0',
        pp_rank: '0',
        moe_ep_rank: '0',
      }
  const h = {
    ttft: new Histogram(early ? EARLY_TTFT : TTFT),
    e2e: new Histogram(early ? EARLY_E2E : E2E),
    itl: new Histogram(early ? EARLY_TPOT : ITL),
    queue: new Histogram(QUEUE),
    retractions: new Histogram(RETRACTIONS),
    func: new Histogram(EARLY_FUNC),
  }
  const c = {
    prompt: 0,
    generation: 0,
    cached: 0,
    requests: 0,
    aborted: 0,
    retracted: 0,
    retractedIn: 0,
    retractedOut: 0,
    prefillCompute: 0,
    prefillCache: 0,
    decode: 0,
    queries: 0,
  }
  const throughput = rateSince()
  const pid = String(process.pid)

  return {
    observer: {
      step() {},
      admitted(r, queried, hit) {
        c.queries += queried
        c.prefillCache += hit
        c.prefillCompute += queried - hit
        if (r.preemptions === 0) h.queue.observe((r.scheduledS ?? 0) - r.arrivalS)
      },
      firstToken(r) {
        h.ttft.observe((r.firstTokenS ?? 0) - r.arrivalS)
        c.decode++
      },
      token(_r, gap) {
        c.decode++
        h.itl.observe(gap)
      },
      preempted(r) {
        c.retracted++
        c.retractedIn += r.promptTokens
        c.retractedOut += r.generated
      },
      finished(r) {
        if (r.finished === 'abort') {
          c.aborted++
          return
        }
        c.prompt += r.promptTokens
        c.generation += r.generated
        c.cached += r.cachedTokens
        c.requests++
        const e2e = (r.finishS ?? 0) - r.arrivalS
        h.e2e.observe(e2e)
        h.func.observe(e2e)
        h.retractions.observe(r.preemptions)
      },
    },
    http() {},
    arrived() {},
    promptSettled(r, before) {
      if (r.finishS !== undefined && r.finished !== 'abort') c.prompt += r.promptTokens - before
      if (r.scheduledS !== undefined && r.preemptions === 0) {
        c.queries += r.promptTokens - before
        c.prefillCompute += r.promptTokens - before
      }
    },
    render(s) {
      const w = new PythonWriter(undefined, true)
      const g = (labels: Labels, value: number) => [{ labels, value }]
      const gen = throughput(c.decode, ctx.nowS())
      const hitRate = c.queries > 0 ? c.prefillCache / c.queries : 0
      const usedTokens = s.usedBlocks * ctx.blockSize
      if (early) {
        w.counter('sglang:prompt_tokens', 'Number of prefill tokens processed.', g(tok, c.prompt))
        w.counter(
          'sglang:generation_tokens',
          'Number of generation tokens processed.',
          g(tok, c.generation),
        )
        w.gauge('sglang:token_usage', 'The token usage', g(sched, s.kvUsage))
        w.gauge('sglang:cache_hit_rate', 'The cache hit rate', g(sched, hitRate))
        w.histogram(
          'sglang:time_to_first_token_seconds',
          'Histogram of time to first token in seconds.',
          [{ labels: tok, value: h.ttft }],
        )
        w.histogram(
          'sglang:e2e_request_latency_seconds',
          'Histogram of End-to-end request latency in seconds',
          [{ labels: tok, value: h.e2e }],
        )
        w.histogram(
          'sglang:time_per_output_token_seconds',
          'Histogram of time per output token in seconds.',
          [{ labels: tok, value: h.itl }],
        )
        w.histogram('sglang:func_latency_seconds', 'Function latency in seconds', [
          { labels: { name: 'generate_request' }, value: h.func },
        ])
        w.gauge('sglang:num_running_reqs', 'The number of running requests', g(sched, s.running))
        w.gauge('sglang:num_used_tokens', 'The number of used tokens', g(sched, usedTokens))
        w.gauge('sglang:gen_throughput', 'The generate throughput (token/s)', g(sched, gen))
        w.gauge(
          'sglang:num_queue_reqs',
          'The number of requests in the waiting queue',
          g(sched, s.waiting),
        )
        return w.text()
      }
      w.gauge('sglang:num_running_reqs', 'The number of running requests.', g(sched, s.running))
      w.gauge('sglang:num_used_tokens', 'The number of used tokens.', g(sched, usedTokens))
      w.gauge('sglang:token_usage', 'The token usage.', g(sched, s.kvUsage))
      w.gauge('sglang:gen_throughput', 'The generation throughput (token/s).', g(sched, gen))
      w.gauge(
        'sglang:num_queue_reqs',
        'The number of requests in the waiting queue.',
        g(sched, s.waiting),
      )
      w.gauge('sglang:cache_hit_rate', 'The prefix cache hit rate.', g(sched, hitRate))
      w.gauge(
        'sglang:max_total_num_tokens',
        'Maximum total number of tokens in the KV cache pool.',
        g(sched, ctx.kvTokenBudget),
      )
      w.gauge(
        'sglang:num_retracted_reqs',
        'The number of retracted requests.',
        g({ ...sched, pid }, 0),
      )
      w.counter(
        'sglang:num_retracted_requests',
        'Total number of retracted requests.',
        g(sched, c.retracted),
      )
      w.counter(
        'sglang:num_retracted_input_tokens',
        'Total number of retracted input tokens.',
        g(sched, c.retractedIn),
      )
      w.counter(
        'sglang:num_retracted_output_tokens',
        'Total number of retracted output tokens.',
        g(sched, c.retractedOut),
      )
      w.histogram('sglang:queue_time_seconds', 'Histogram of queueing time in seconds.', [
        { labels: sched, value: h.queue },
      ])
      w.counter(
        'sglang:realtime_tokens',
        'Total number of tokens processed (updated on each log interval). mode: prefill_compute, prefill_cache, decode.',
        [
          { labels: { ...sched, mode: 'prefill_compute' }, value: c.prefillCompute },
          { labels: { ...sched, mode: 'prefill_cache' }, value: c.prefillCache },
          { labels: { ...sched, mode: 'decode' }, value: c.decode },
        ],
      )
      w.counter('sglang:prompt_tokens', 'Number of prefill tokens processed.', g(tok, c.prompt))
      w.counter(
        'sglang:generation_tokens',
        'Number of generation tokens processed.',
        g(tok, c.generation),
      )
      w.counter('sglang:cached_tokens', 'Number of cached prompt tokens.', g(tok, c.cached))
      w.counter('sglang:num_requests', 'Number of requests processed.', g(tok, c.requests))
      w.counter('sglang:num_aborted_requests', 'Number of requests aborted.', g(tok, c.aborted))
      w.histogram(
        'sglang:time_to_first_token_seconds',
        'Histogram of time to first token in seconds.',
        [{ labels: tok, value: h.ttft }],
      )
      w.histogram(
        'sglang:inter_token_latency_seconds',
        'Histogram of inter-token latency in seconds.',
        [{ labels: tok, value: h.itl }],
      )
      w.histogram(
        'sglang:e2e_request_latency_seconds',
        'Histogram of End-to-end request latency in seconds',
        [{ labels: tok, value: h.e2e }],
      )
      w.histogram('sglang:num_retractions', 'Histogram of retraction counts per request.', [
        { labels: tok, value: h.retractions },
      ])
      return w.text()
    },
  }
}
