// TGI's /metrics (router/src/server.rs, rendered by metrics-exporter-prometheus,
// https://huggingface.co/docs/text-generation-inference/reference/metrics): no model label,
// counters without a _total suffix, every *_duration histogram on 35 buckets 0.0001 x 1.5^k
// (k = 1..35), token histograms on 100 linear buckets up to max_input_tokens / max_total_tokens.
// Request histograms are recorded when a request succeeds; refusals count in
// tgi_request_failure{err}. Durations in simulated seconds.
import type { EngineMetrics, MetricsContext } from './_engine-metrics.js'
import { Histogram, RustWriter } from './_prom.js'

/** As server.rs builds them: value *= 1.5 from 0.0001, 35 times. */
const DURATION = (() => {
  const out: number[] = []
  let v = 0.0001
  for (let i = 0; i < 35; i++) {
    v *= 1.5
    out.push(v)
  }
  return out
})()
const linear = (max: number) => Array.from({ length: 100 }, (_, x) => (max / 100) * (x + 1))

export function createTgiMetrics(ctx: MetricsContext): EngineMetrics {
  const maxInput = ctx.maxModelLen - 1
  const h = {
    duration: new Histogram(DURATION),
    validation: new Histogram(DURATION),
    queue: new Histogram(DURATION),
    inference: new Histogram(DURATION),
    perToken: new Histogram(DURATION),
    input: new Histogram(linear(maxInput)),
    generated: new Histogram(linear(ctx.maxModelLen)),
    maxNew: new Histogram(linear(ctx.maxModelLen)),
    forwardPrefill: new Histogram(DURATION),
    forwardDecode: new Histogram(DURATION),
  }
  const c = { count: 0, success: 0, prefill: 0, decode: 0 }
  const failures = new Map<string, number>()

  return {
    observer: {
      step(startS, endS, _tokens, _timing, _seqs, prefillTokens) {
        // A step with prefill work is a prefill batch to TGI's router, else a decode batch.
        if (prefillTokens > 0) {
          c.prefill++
          h.forwardPrefill.observe(endS - startS)
        } else {
          c.decode++
          h.forwardDecode.observe(endS - startS)
        }
      },
      admitted() {},
      firstToken() {},
      token() {},
      preempted() {},
      finished(r) {
        if (r.finished === 'abort') return
        c.success++
        const end = r.finishS ?? 0
        const scheduled = r.scheduledS ?? end
        const first = r.firstTokenS ?? end
        h.duration.observe(end - r.arrivalS)
        h.validation.observe(0)
        h.queue.observe(scheduled - r.arrivalS)
        h.inference.observe(end - scheduled)
        if (r.generated > 0) h.perToken.observe((end - first) / Math.max(1, r.generated - 1))
        h.input.observe(r.promptTokens)
        h.generated.observe(r.generated)
        h.maxNew.observe(r.targetTokens)
      },
    },
    http(e) {
      if (!e.failure) return
      failures.set(e.failure, (failures.get(e.failure) ?? 0) + 1)
    },
    arrived() {
      c.count++
    },
    promptSettled(r, before) {
      if (r.finishS !== undefined)
        h.input.observeWeighted(r.promptTokens, r.promptTokens - before, 0)
    },
    render(s) {
      const w = new RustWriter()
      const one = (value: number) => [{ labels: {}, value }]
      w.counter('tgi_request_count', one(c.count))
      w.counter('tgi_request_success', one(c.success))
      if (failures.size > 0)
        w.counter(
          'tgi_request_failure',
          [...failures].map(([err, value]) => ({ labels: { err }, value })),
        )
      w.counter('tgi_batch_inference_count', [
        { labels: { method: 'prefill' }, value: c.prefill },
        { labels: { method: 'decode' }, value: c.decode },
      ])
      w.counter('tgi_batch_inference_success', [
        { labels: { method: 'prefill' }, value: c.prefill },
        { labels: { method: 'decode' }, value: c.decode },
      ])
      w.gauge('tgi_queue_size', one(s.waiting))
      w.gauge('tgi_batch_current_size', one(s.running))
      w.gauge('tgi_batch_current_max_tokens', one(s.reservedTokens))
      w.gauge('tgi_batch_max_total_tokens', one(ctx.kvTokenBudget))
      w.histogram('tgi_request_duration', [{ labels: {}, value: h.duration }])
      w.histogram('tgi_request_validation_duration', [{ labels: {}, value: h.validation }])
      w.histogram('tgi_request_queue_duration', [{ labels: {}, value: h.queue }])
      w.histogram('tgi_request_inference_duration', [{ labels: {}, value: h.inference }])
      w.histogram('tgi_request_mean_time_per_token_duration', [{ labels: {}, value: h.perToken }])
      w.histogram('tgi_request_input_length', [{ labels: {}, value: h.input }])
      w.histogram('tgi_request_generated_tokens', [{ labels: {}, value: h.generated }])
      w.histogram('tgi_request_max_new_tokens', [{ labels: {}, value: h.maxNew }])
      w.histogram('tgi_batch_forward_duration', [
        { labels: { method: 'prefill' }, value: h.forwardPrefill },
        { labels: { method: 'decode' }, value: h.forwardDecode },
      ])
      return w.text()
    },
  }
}
