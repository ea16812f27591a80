// llama-server's /metrics (--metrics; tools/server/server.cpp,
// https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md): no labels, the
// `llamacpp:` prefix, C++ number formatting, n_busy_slots_per_decode typed as a counter as the
// code does. Throughput gauges cover the time since the previous scrape (the server resets its
// bucket on each /metrics call). Builds before the KV metrics were removed also export
// kv_cache_usage_ratio (used cells over the context) and kv_cache_tokens.
import type { LlamacppDialect } from './_dialects.js'
import { type EngineMetrics, type MetricsContext, rateSince } from './_engine-metrics.js'
import { cppDouble } from './_prom.js'

export function createLlamacppMetrics(ctx: MetricsContext, d: LlamacppDialect): EngineMetrics {
  const c = {
    prompt: 0,
    promptSeconds: 0,
    predicted: 0,
    predictedSeconds: 0,
    decodes: 0,
    busySlots: 0,
    maxTokens: 0,
  }
  const promptRate = rateSince()
  const predictedRate = rateSince()
  // Seconds of prompt / generation work, to turn token counts into tokens per second of work.
  const busy = { prompt: 0, predicted: 0 }

  return {
    observer: {
      step(_s, _e, tokens, _timing, seqs) {
        c.decodes++
        c.busySlots += seqs
        c.maxTokens = Math.max(c.maxTokens, tokens)
      },
      admitted() {},
      firstToken(r) {
        const prefillS = (r.firstTokenS ?? 0) - (r.scheduledS ?? 0)
        c.prompt += r.promptTokens - r.cachedTokens
        c.promptSeconds += prefillS
        busy.prompt += prefillS
      },
      token() {},
      preempted() {},
      finished(r) {
        const decodeS = (r.finishS ?? 0) - (r.firstTokenS ?? r.finishS ?? 0)
        c.predicted += r.generated
        c.predictedSeconds += decodeS
        busy.predicted += decodeS
      },
    },
    http() {},
    arrived() {},
    promptSettled(r, before) {
      if (r.firstTokenS !== undefined) c.prompt += r.promptTokens - before
    },
    render(s) {
      const lines: string[] = []
      const emit = (name: string, help: string, type: string, value: string) =>
        lines.push(
          `# HELP llamacpp:${name} ${help}`,
          `# TYPE llamacpp:${name} ${type}`,
          `llamacpp:${name} ${value}`,
        )
      const int = (x: number) => String(Math.floor(x))
      // Tokens per second of work since the previous scrape.
      const pRate = promptRate(c.prompt, busy.prompt)
      const gRate = predictedRate(c.predicted, busy.predicted)
      emit('prompt_tokens_total', 'Number of prompt tokens processed.', 'counter', int(c.prompt))
      emit('prompt_seconds_total', 'Prompt process time', 'counter', cppDouble(c.promptSeconds))
      emit(
        'tokens_predicted_total',
        'Number of generation tokens processed.',
        'counter',
        int(c.predicted),
      )
      emit(
        'tokens_predicted_seconds_total',
        'Predict process time',
        'counter',
        cppDouble(c.predictedSeconds),
      )
      emit('n_decode_total', 'Total number of llama_decode() calls', 'counter', int(c.decodes))
      if (!d.kvMetrics)
        emit('n_tokens_max', 'Largest observed n_tokens.', 'counter', int(c.maxTokens))
      emit(
        'n_busy_slots_per_decode',
        'Average number of busy slots per llama_decode() call',
        'counter',
        cppDouble(c.busySlots / Math.max(1, c.decodes)),
      )
      emit(
        'prompt_tokens_seconds',
        'Average prompt throughput in tokens/s.',
        'gauge',
        cppDouble(pRate),
      )
      emit(
        'predicted_tokens_seconds',
        'Average generation throughput in tokens/s.',
        'gauge',
        cppDouble(gRate),
      )
      if (d.kvMetrics) {
        emit(
          'kv_cache_usage_ratio',
          'KV-cache usage. 1 means 100 percent usage.',
          'gauge',
          cppDouble(ctx.kvTokenBudget > 0 ? s.kvTokens / ctx.kvTokenBudget : 0),
        )
        emit('kv_cache_tokens', 'KV-cache tokens.', 'gauge', int(s.kvTokens))
      }
      emit('requests_processing', 'Number of requests processing.', 'gauge', int(s.running))
      emit('requests_deferred', 'Number of requests deferred.', 'gauge', int(s.waiting))
      return `${lines.join('\n')}\n`
    },
  }
}
