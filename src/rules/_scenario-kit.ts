import type { AlertName, RulesPlan } from './_plan.js'
import type { QuerySample } from './_template.js'
import type { InputSeries, Labels, Timeline } from './_test-model.js'

export interface Firing {
  labels: Labels
  severity: 'critical' | 'warning'
  value: number
  /** Results of the annotation's template queries at the eval time (none: empty results). */
  queries?: Record<string, QuerySample[]>
}

/** Per alert: series with instances above and just under the threshold, and what must fire. */
export interface AlertScenario {
  alert: AlertName
  /** Seconds until the condition first holds (rates need two samples). */
  startSeconds: number
  input: InputSeries[]
  firing: Firing[]
}

export const MODEL = 'qwen3-4b'
export const GPU = 'NVIDIA GeForce RTX 4090 D'
export const proxy = (instance: string, extra: Labels = {}): Labels => ({
  job: 'inferwatch',
  instance,
  gen_ai_operation_name: 'chat',
  gen_ai_request_model: MODEL,
  gen_ai_provider_name: 'vllm',
  ...extra,
})
export const vllm = (instance: string, model = MODEL, extra: Labels = {}): Labels => ({
  job: 'vllm',
  instance,
  engine: 'vllm',
  // vLLM V1's own engine="0" label, renamed by Prometheus because the target sets `engine`.
  exported_engine: '0',
  model_name: model,
  ...extra,
})
export const out = (job: string, instance: string, engine?: string, model?: string): Labels => ({
  job,
  instance,
  ...(engine ? { engine } : {}),
  ...(model ? { model } : {}),
})

export interface ScenarioKit {
  th: RulesPlan['thresholds']
  plan: RulesPlan
  t: Timeline
  g: (name: string, labels: Labels, v: number) => InputSeries
  c: (name: string, labels: Labels, perStep: number) => InputSeries
  under: (x: number) => number
  rate: number
}
