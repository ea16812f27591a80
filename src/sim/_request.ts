// What the scripted engine understands of a request: the API format, the prompt text it would
// tokenize, the requested output length and whether to stream (README: Metrics; API docs listed in
// src/engines/_schemas.ts).
import { parseChatMessages, renderChatPrompt } from '../tokens/index.js'

export type ScriptedFormat =
  | 'openai-chat'
  | 'openai-completions'
  | 'vllm-generate'
  | 'tgi-generate'
  | 'tgi-generate-stream'
  | 'sglang-generate'
  | 'llamacpp-completion'

export interface ScriptedRequest {
  format: ScriptedFormat
  model: string | undefined
  stream: boolean
  includeUsage: boolean
  /** Prompt as the engine tokenizes it (chat: rendered ChatML), or a token-id count. */
  promptText: string
  promptIdCount: number | undefined
  maxTokens: number | undefined
}

type Json = Record<string, unknown>

const obj = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined
const int = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined

/** undefined: not an LLM route, or a body the engine would reject (answered 400). */
export function parseScriptedRequest(path: string, body: Buffer): ScriptedRequest | undefined {
  let json: Json | undefined
  try {
    json = obj(JSON.parse(body.toString('utf8')))
  } catch {
    return undefined
  }
  if (!json) return undefined
  const base = {
    model: typeof json.model === 'string' ? json.model : undefined,
    includeUsage: false,
  }
  const prompt = (v: unknown) =>
    typeof v === 'string'
      ? { promptText: v, promptIdCount: undefined }
      : Array.isArray(v) && typeof v[0] === 'string'
        ? { promptText: v[0] as string, promptIdCount: undefined }
        : Array.isArray(v) && v.every((x) => typeof x === 'number')
          ? { promptText: '', promptIdCount: v.length }
          : undefined
  switch (path) {
    case '/v1/chat/completions':
    case '/v1/completions': {
      const chat = path === '/v1/chat/completions'
      let p: { promptText: string; promptIdCount: number | undefined } | undefined
      if (chat) {
        const messages = parseChatMessages(json.messages)
        if (!messages) return undefined
        const tools = Array.isArray(json.tools) ? json.tools : undefined
        p = { promptText: renderChatPrompt(messages, tools), promptIdCount: undefined }
      } else p = prompt(json.prompt)
      if (!p) return undefined
      const stream = json.stream === true
      return {
        ...base,
        ...p,
        format: chat ? 'openai-chat' : 'openai-completions',
        stream,
        includeUsage: stream && obj(json.stream_options)?.include_usage === true,
        maxTokens: int(json.max_completion_tokens) ?? int(json.max_tokens),
      }
    }
    case '/generate_stream':
    case '/generate': {
      if (typeof json.inputs === 'string') {
        return {
          ...base,
          format: path === '/generate_stream' ? 'tgi-generate-stream' : 'tgi-generate',
          stream: path === '/generate_stream',
          promptText: json.inputs,
          promptIdCount: undefined,
          maxTokens: int(obj(json.parameters)?.max_new_tokens),
        }
      }
      if (path === '/generate_stream') return undefined
      if (json.text !== undefined || json.input_ids !== undefined) {
        const p = prompt(json.text ?? json.input_ids)
        if (!p) return undefined
        return {
          ...base,
          ...p,
          format: 'sglang-generate',
          stream: json.stream === true,
          maxTokens: int(obj(json.sampling_params)?.max_new_tokens),
        }
      }
      const p = prompt(json.prompt)
      if (!p) return undefined
      return {
        ...base,
        ...p,
        format: 'vllm-generate',
        stream: json.stream === true,
        maxTokens: int(json.max_tokens),
      }
    }
    case '/completion': {
      const p = prompt(json.prompt)
      if (!p) return undefined
      return {
        ...base,
        ...p,
        format: 'llamacpp-completion',
        stream: json.stream === true,
        maxTokens: int(json.n_predict),
      }
    }
    default:
      return undefined
  }
}
