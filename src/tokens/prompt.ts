// What an LLM request body asks for: its dialect, model, streaming flags and the exact text the
// engine tokenizes as the prompt (README: Metrics: OpenAI chat/completions, vLLM demo /generate
// {prompt}, TGI /generate(_stream) {inputs}, SGLang /generate {text|input_ids}, llama.cpp
// /completion {prompt}). Pure: used on the main thread for small bodies and inside the token worker
// for large ones.
import { parseChatMessages, renderChatPrompt } from './chat-template.js'

export type Dialect =
  | 'openai-chat'
  | 'openai-completions'
  | 'vllm-generate'
  | 'tgi-generate'
  | 'sglang-generate'
  | 'llamacpp-completion'

/** Which engine's `/generate` to assume when the body shape does not say. */
export type GenerateHint = 'vllm' | 'tgi' | 'sglang'

export interface PromptAnalysis {
  dialect: Dialect
  /** The `model` field when it is a string. */
  model: string | undefined
  stream: boolean
  /** OpenAI stream_options.include_usage. */
  includeUsage: boolean
  /** The prompt as the engine tokenizes it (chat: the rendered Qwen3 ChatML); undefined with ids. */
  promptText: string | undefined
  /** Prompt given as token ids: their number is the count. */
  promptIdCount: number | undefined
}

type Json = Record<string, unknown>
const asObject = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined

/** The dialect a path implies before the body is read (`/generate` is settled by the body). */
export function dialectOfPath(path: string, hint: GenerateHint): Dialect | undefined {
  switch (path) {
    case '/v1/chat/completions':
      return 'openai-chat'
    case '/v1/completions':
      return 'openai-completions'
    case '/generate_stream':
      return 'tgi-generate'
    case '/completion':
      return 'llamacpp-completion'
    case '/generate':
      return hint === 'tgi'
        ? 'tgi-generate'
        : hint === 'sglang'
          ? 'sglang-generate'
          : 'vllm-generate'
    default:
      return undefined
  }
}

function promptOf(v: unknown): Pick<PromptAnalysis, 'promptText' | 'promptIdCount'> {
  if (typeof v === 'string') return { promptText: v, promptIdCount: undefined }
  if (Array.isArray(v)) {
    // A batch of prompts: the engine tokenizes each; we count the first one's class (a batch is
    // rare on these routes; its other prompts are counted in usage when the engine reports it).
    if (typeof v[0] === 'string') return { promptText: v[0], promptIdCount: undefined }
    if (v.length > 0 && v.every((x) => typeof x === 'number'))
      return { promptText: undefined, promptIdCount: v.length }
    if (Array.isArray(v[0]) && (v[0] as unknown[]).every((x) => typeof x === 'number'))
      return { promptText: undefined, promptIdCount: (v[0] as unknown[]).length }
  }
  return { promptText: undefined, promptIdCount: undefined }
}

/** Reads a parsed JSON body. `undefined` when it is not an object (the engine will say 400). */
export function analyzePromptBody(
  path: string,
  body: unknown,
  hint: GenerateHint,
): PromptAnalysis | undefined {
  const json = asObject(body)
  const pathDialect = dialectOfPath(path, hint)
  if (!json || !pathDialect) return undefined
  const model = typeof json.model === 'string' ? json.model : undefined
  const stream = json.stream === true
  // Built field by field: an object spread that overrides a spread key takes V8's slow path
  // (~6 µs per request here).
  const result = (
    dialect: Dialect,
    p: Pick<PromptAnalysis, 'promptText' | 'promptIdCount'>,
    streamed = stream,
    includeUsage = false,
  ): PromptAnalysis => ({
    dialect,
    model,
    stream: streamed,
    includeUsage,
    promptText: p.promptText,
    promptIdCount: p.promptIdCount,
  })
  const usage = () => stream && asObject(json.stream_options)?.include_usage === true
  switch (pathDialect) {
    case 'openai-chat': {
      const messages = parseChatMessages(json.messages)
      const tools = Array.isArray(json.tools) ? json.tools : undefined
      const promptText = messages ? renderChatPrompt(messages, tools) : undefined
      return result(pathDialect, { promptText, promptIdCount: undefined }, stream, usage())
    }
    case 'openai-completions':
      return result(pathDialect, promptOf(json.prompt), stream, usage())
    case 'llamacpp-completion':
      return result(pathDialect, promptOf(json.prompt))
    default: {
      // /generate and /generate_stream: the body shape decides (README: Metrics).
      if (path === '/generate_stream' || json.inputs !== undefined)
        return result('tgi-generate', promptOf(json.inputs), path === '/generate_stream')
      if (json.text !== undefined || json.input_ids !== undefined)
        return result('sglang-generate', promptOf(json.text ?? json.input_ids))
      if (json.prompt !== undefined) return result('vllm-generate', promptOf(json.prompt))
      return result(pathDialect, { promptText: undefined, promptIdCount: undefined })
    }
  }
}

/** Parses body bytes then analyzes them; undefined for malformed JSON. */
export function analyzePromptBytes(
  path: string,
  bytes: Uint8Array,
  hint: GenerateHint,
): PromptAnalysis | undefined {
  let body: unknown
  try {
    body = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return undefined
  }
  return analyzePromptBody(path, body, hint)
}
