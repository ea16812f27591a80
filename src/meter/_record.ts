// Recording one exchange into the meter's histograms. Label objects are written as literals, not
// `{ ...base, x }`: V8 takes a slow path for such spreads (~1 µs each, several per request).
import type { MeterMetrics } from './_metrics.js'
import type { ContextClass, ErrorType, Operation, Provider } from './types.js'

export interface BaseLabels {
  gen_ai_operation_name: Operation
  gen_ai_request_model: string
  gen_ai_provider_name: Provider
  context_class: ContextClass
}

export function recordDuration(
  metrics: MeterMetrics,
  base: BaseLabels,
  errorType: ErrorType,
  durationS: number,
): void {
  metrics.duration.observe(
    {
      gen_ai_operation_name: base.gen_ai_operation_name,
      gen_ai_request_model: base.gen_ai_request_model,
      gen_ai_provider_name: base.gen_ai_provider_name,
      context_class: base.context_class,
      error_type: errorType,
    },
    durationS,
  )
}

/** TTFT and TPOT (streamed), input and output tokens of a successful exchange. */
export function recordSuccess(
  metrics: MeterMetrics,
  base: BaseLabels,
  durationS: number,
  ttftS: number | undefined,
  promptTokens: number | undefined,
  outputTokens: number | undefined,
): void {
  if (ttftS !== undefined) {
    metrics.ttft.observe(base, ttftS)
    if (outputTokens !== undefined && outputTokens > 1)
      metrics.tpot.observe(base, Math.max(0, durationS - ttftS) / (outputTokens - 1))
  }
  if (promptTokens !== undefined) recordTokens(metrics, base, 'input', promptTokens)
  if (outputTokens !== undefined) recordTokens(metrics, base, 'output', outputTokens)
}

function recordTokens(
  metrics: MeterMetrics,
  base: BaseLabels,
  type: 'input' | 'output',
  n: number,
): void {
  metrics.tokens.observe(
    {
      gen_ai_operation_name: base.gen_ai_operation_name,
      gen_ai_request_model: base.gen_ai_request_model,
      gen_ai_provider_name: base.gen_ai_provider_name,
      context_class: base.context_class,
      gen_ai_token_type: type,
    },
    n,
  )
}
