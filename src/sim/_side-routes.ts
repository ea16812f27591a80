// The simulator's smaller routes: /tokenize (vLLM: count, max_model_len and ids; llama.cpp: ids,
// https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md) with the real Qwen3
// ids, and llama.cpp's GET /slots.
import type { Answer, EngineApi } from './_engine-api.js'
import { parseScriptedRequest } from './_request.js'
import type { TokenIds } from './_token-ids.js'
import type { SimEngine } from './simulator-types.js'

const json = (body: unknown): Answer => ({
  status: 200,
  contentType: 'application/json',
  body: JSON.stringify(body),
})

export async function tokenizeAnswer(
  body: Buffer,
  engine: SimEngine,
  maxModelLen: number,
  ids: TokenIds,
  api: EngineApi,
): Promise<Answer> {
  let text: string | undefined
  try {
    const j = JSON.parse(body.toString('utf8')) as Record<string, unknown>
    if (typeof j.prompt === 'string') text = j.prompt
    else if (typeof j.content === 'string') text = j.content
    else if (Array.isArray(j.messages)) {
      const chat = Buffer.from(JSON.stringify({ messages: j.messages }))
      text = parseScriptedRequest('/v1/chat/completions', chat)?.promptText
    }
  } catch {
    text = undefined
  }
  if (text === undefined) return api.invalid('nothing to tokenize')
  const tokens = (await ids.encode(text)) ?? []
  return json(
    engine === 'llamacpp'
      ? { tokens }
      : { count: tokens.length, max_model_len: maxModelLen, tokens, token_strs: null },
  )
}

/** llama-server's per-slot view: the first `busy` slots are processing. */
export function llamaSlots(slots: number, nCtx: number, busy: number): Answer {
  return json(
    Array.from({ length: slots }, (_, id) => ({
      id,
      id_task: -1,
      n_ctx: nCtx,
      speculative: false,
      is_processing: id < busy,
    })),
  )
}
