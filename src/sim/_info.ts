// The scripted engine's GET endpoints: /health, /v1/models, a vLLM-like /metrics, and the info
// endpoint of the engine it plays (vLLM /version, TGI /info, SGLang /get_model_info, llama.cpp
// /props; API docs listed in src/engines/_schemas.ts).
import { renderEngineMetrics, type ScriptedGauges } from './_metrics.js'

export interface InfoState {
  servedModels: string[]
  maxModelLen: number
  healthStatus: number
  flavor: 'vllm' | 'tgi' | 'sglang' | 'llamacpp'
  version: string
  gauges: Partial<ScriptedGauges>
  live: number
  totals: { prompt: number; generation: number; success: number }
}

export interface InfoAnswer {
  status: number
  contentType: string
  body: string
}

const json = (body: unknown): InfoAnswer => ({
  status: 200,
  contentType: 'application/json',
  body: JSON.stringify(body),
})

/** undefined: not an info endpoint of this flavor. */
export function answerInfo(path: string, s: InfoState): InfoAnswer | undefined {
  const model = s.servedModels[0] ?? 'model'
  switch (path) {
    case '/health':
      return { status: s.healthStatus, contentType: 'text/plain', body: '' }
    case '/v1/models':
      return json({
        object: 'list',
        data: s.servedModels.map((id) => ({
          id,
          object: 'model',
          created: 0,
          owned_by: s.flavor,
          root: id,
          max_model_len: s.maxModelLen,
        })),
      })
    case '/metrics':
      return {
        status: 200,
        contentType: 'text/plain; version=0.0.4; charset=utf-8',
        body: renderEngineMetrics(model, { running: s.live, ...s.gauges }, s.totals),
      }
    case '/version':
      return s.flavor === 'vllm' ? json({ version: s.version }) : undefined
    case '/info':
      return s.flavor === 'tgi'
        ? json({
            model_id: model,
            max_input_tokens: s.maxModelLen - 1,
            max_total_tokens: s.maxModelLen,
            version: s.version,
          })
        : undefined
    case '/get_model_info':
      return s.flavor === 'sglang' ? json({ model_path: model, is_generation: true }) : undefined
    case '/props':
      return s.flavor === 'llamacpp'
        ? json({
            model_path: model,
            total_slots: 1,
            default_generation_settings: { n_ctx: s.maxModelLen },
          })
        : undefined
    default:
      return undefined
  }
}
