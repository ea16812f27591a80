import { modelsListSchema, parseJsonAs } from './_schemas.js'
import { joinUrl, probeUrl } from './probe.js'
import type { DiscoverOptions, EngineInfo } from './types.js'

// Of what discovery found, only the served models change while an engine runs (vLLM and SGLang
// load and unload LoRA adapters at run time: https://docs.vllm.ai/en/latest/features/lora.html);
// the engine, its version and its context are fixed until it restarts. A refresh therefore asks
// one thing: GET /v1/models, which vLLM, TGI, SGLang and llama.cpp all serve (API docs listed in
// _schemas.ts).

export type ModelsRefresh =
  | { status: 'same' }
  /** The list differs: the engine may have been restarted with other weights. */
  | { status: 'changed'; models: string[] }
  /** No usable list (no answer, an error status, another shape): discover the engine again. */
  | { status: 'failed'; detail: string }

/** One GET /v1/models, compared with the models `info` lists. */
export async function refreshEngineModels(
  info: EngineInfo,
  options: DiscoverOptions = {},
): Promise<ModelsRefresh> {
  const url = joinUrl(info.baseUrl, '/v1/models')
  const r = await probeUrl(url, {
    timeoutMs: options.timeoutMs ?? 3000,
    ...(options.limiter ? { limiter: options.limiter } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.apiKey ? { headers: { authorization: `Bearer ${options.apiKey}` } } : {}),
  })
  if (!r.ok) return { status: 'failed', detail: `GET ${url}: ${r.message}` }
  if (r.status !== 200) return { status: 'failed', detail: `GET ${url} answers HTTP ${r.status}` }
  const list = parseJsonAs(modelsListSchema, r.body)
  if (!list || list.data.length === 0)
    return { status: 'failed', detail: `GET ${url} lists no model` }
  const models = [...new Set(list.data.map((m) => m.id))]
  const before = new Set(info.models)
  const same = models.length === before.size && models.every((m) => before.has(m))
  return same ? { status: 'same' } : { status: 'changed', models }
}
