// What an LLM request body asks for: its dialect, model, streaming flags and the exact text the
// engine tokenizes as the prompt (README: Metrics: OpenAI chat/completions and embeddings, vLLM
// demo /generate {prompt}, TGI /generate(_stream) {inputs}, SGLang /generate {text|input_ids},
// llama.cpp /completion(s) {prompt} and /infill {input_prefix, input_suffix, prompt}). Pure: used
// on the main thread for small bodies and inside the token worker for large ones.
import { parseChatMessages, renderChatPrompt } from './chat-template.js'

export type Dialect =
  | 'openai-chat'
  | 'openai-completions'
  | 'openai-embeddings'
  | 'vllm-generate'
  | 'tgi-generate'
  | 'sglang-generate'
  | 'llamacpp-completion'
  | 'llamacpp-infill'

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
  /** Further texts the engine tokenizes on their own, counted into the prompt: an embeddings
   * batch's other inputs, infill's suffix and prompt. Absent on every other route. */
  morePromptTexts?: readonly string[]
  /** Prompt given as token ids: their number is the count. */
  promptIdCount: number | undefined
  /** The OpenAI `user` field (an end-user id) when it is a string; absent otherwise. */
  user?: string
}

type Json = Record<string, unknown>
interface Prompt {
  promptText: string | undefined
  morePromptTexts: readonly string[] | undefined
  promptIdCount: number | undefined
}
const asObject = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined
const NO_PROMPT: Prompt = {
  promptText: undefined,
  morePromptTexts: undefined,
  promptIdCount: undefined,
}

/**
 * The routes metered (README: Metrics) and the dialect each implies; every other path is
 * forwarded unmetered. `/generate` is settled by the engine behind the proxy, then by the body.
 * llama.cpp serves `/completion` and `/completions` (native), `/chat/completions` beside the
 * `/v1` OpenAI routes, and `/infill` (https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md).
 */
const ROUTES: ReadonlyMap<string, Dialect> = new Map<string, Dialect>([
  ['/v1/chat/completions', 'openai-chat'],
  ['/chat/completions', 'openai-chat'],
  ['/v1/completions', 'openai-completions'],
  ['/v1/embeddings', 'openai-embeddings'],
  ['/generate_stream', 'tgi-generate'],
  ['/completion', 'llamacpp-completion'],
  ['/completions', 'llamacpp-completion'],
  ['/infill', 'llamacpp-infill'],
])

/** The dialect a path implies before the body is read; undefined: not metered. */
export function dialectOfPath(path: string, hint: GenerateHint): Dialect | undefined {
  const dialect = ROUTES.get(path)
  if (dialect !== undefined || path !== '/generate') return dialect
  return hint === 'tgi' ? 'tgi-generate' : hint === 'sglang' ? 'sglang-generate' : 'vllm-generate'
}

const isIds = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number')

function promptOf(v: unknown): Prompt {
  if (typeof v === 'string')
    return { promptText: v, morePromptTexts: undefined, promptIdCount: undefined }
  if (Array.isArray(v)) {
    // A batch of prompts: the engine tokenizes each; we count the first one's class (a batch is
    // rare on these routes; its other prompts are counted in usage when the engine reports it).
    if (typeof v[0] === 'string')
      return { promptText: v[0], morePromptTexts: undefined, promptIdCount: undefined }
    if (isIds(v))
      return { promptText: undefined, morePromptTexts: undefined, promptIdCount: v.length }
    if (isIds(v[0]))
      return { promptText: undefined, morePromptTexts: undefined, promptIdCount: v[0].length }
  }
  return NO_PROMPT
}

/** Embeddings `input`: a string, strings, token ids or lists of them; a batch is common here, and
 * every input is a sequence of its own (the engine's prompt_tokens is their sum). */
function embeddingsInput(v: unknown): Prompt {
  if (!Array.isArray(v) || v.length === 0 || isIds(v)) return promptOf(v)
  if (v.every((x) => typeof x === 'string'))
    return { promptText: v[0], morePromptTexts: v.slice(1), promptIdCount: undefined }
  if (v.every(isIds))
    return {
      promptText: undefined,
      morePromptTexts: undefined,
      promptIdCount: v.reduce((n, ids) => n + ids.length, 0),
    }
  return NO_PROMPT
}

/** llama.cpp /infill: prefix, suffix, prompt and extra context chunks, each tokenized on its own
 * and joined with FIM tokens (their few special tokens are not counted here; the engine's
 * tokens_evaluated, always reported, is what the meter records). */
function infillInput(json: Json): Prompt {
  const texts: string[] = []
  if (Array.isArray(json.input_extra))
    for (const chunk of json.input_extra) {
      const text = asObject(chunk)?.text
      if (typeof text === 'string') texts.push(text)
    }
  for (const v of [json.input_suffix, json.prompt])
    if (typeof v === 'string' && v.length > 0) texts.push(v)
  const prefix = typeof json.input_prefix === 'string' ? json.input_prefix : ''
  return { promptText: prefix, morePromptTexts: texts, promptIdCount: undefined }
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
  const user = typeof json.user === 'string' ? json.user : undefined
  switch (pathDialect) {
    case 'openai-chat': {
      const messages = parseChatMessages(json.messages)
      const tools = Array.isArray(json.tools) ? json.tools : undefined
      const promptText = messages ? renderChatPrompt(messages, tools) : undefined
      return analysis(pathDialect, model, stream, includeUsage(json, stream), user, promptText)
    }
    case 'openai-completions':
      return analysisOf(
        pathDialect,
        model,
        stream,
        includeUsage(json, stream),
        user,
        promptOf(json.prompt),
      )
    case 'openai-embeddings':
      return analysisOf(pathDialect, model, false, false, user, embeddingsInput(json.input))
    case 'llamacpp-completion':
      return analysisOf(pathDialect, model, stream, false, user, promptOf(json.prompt))
    case 'llamacpp-infill':
      return analysisOf(pathDialect, model, stream, false, user, infillInput(json))
    default: {
      // /generate and /generate_stream: the body shape decides (README: Metrics).
      if (path === '/generate_stream' || json.inputs !== undefined)
        return analysisOf(
          'tgi-generate',
          model,
          path === '/generate_stream',
          false,
          user,
          promptOf(json.inputs),
        )
      if (json.text !== undefined || json.input_ids !== undefined)
        return analysisOf(
          'sglang-generate',
          model,
          stream,
          false,
          user,
          promptOf(json.text ?? json.input_ids),
        )
      if (json.prompt !== undefined)
        return analysisOf('vllm-generate', model, stream, false, user, promptOf(json.prompt))
      return analysisOf(pathDialect, model, stream, false, user, NO_PROMPT)
    }
  }
}

/** OpenAI stream_options.include_usage of a streamed request. */
function includeUsage(json: Json, stream: boolean): boolean {
  return stream && asObject(json.stream_options)?.include_usage === true
}

function analysisOf(
  dialect: Dialect,
  model: string | undefined,
  stream: boolean,
  usage: boolean,
  user: string | undefined,
  p: Prompt,
): PromptAnalysis {
  const a = analysis(dialect, model, stream, usage, user, p.promptText, p.promptIdCount)
  if (p.morePromptTexts !== undefined) a.morePromptTexts = p.morePromptTexts
  return a
}

// Built field by field, in one shape: an object spread that overrides a spread key takes V8's
// slow path (~6 µs per request here).
function analysis(
  dialect: Dialect,
  model: string | undefined,
  stream: boolean,
  usage: boolean,
  user: string | undefined,
  promptText: string | undefined,
  promptIdCount: number | undefined = undefined,
): PromptAnalysis {
  const a: PromptAnalysis = {
    dialect,
    model,
    stream,
    includeUsage: usage,
    promptText,
    promptIdCount,
  }
  if (user !== undefined) a.user = user
  return a
}

/** A special token: the tokenizer splits it out before BPE, so text on either side of it is
 * tokenized exactly as it would be alone (https://huggingface.co/Qwen/Qwen3-4B-Instruct-2507/blob/main/tokenizer_config.json). */
const SEPARATOR = '<|endoftext|>'

/**
 * The prompt as one text to count, and how many separator tokens to subtract from its count:
 * parts the engine tokenizes on their own are joined with a special token (one count, not one
 * per part). undefined when the prompt has no text.
 */
export function promptCountText(
  a: Pick<PromptAnalysis, 'promptText' | 'morePromptTexts'>,
): { text: string; separators: number } | undefined {
  if (a.promptText === undefined) return undefined
  const more = a.morePromptTexts
  if (more === undefined || more.length === 0) return { text: a.promptText, separators: 0 }
  return { text: [a.promptText, ...more].join(SEPARATOR), separators: more.length }
}

/** Stateless without `stream: true`: one decoder serves every call. */
const UTF8 = new TextDecoder()

/** Parses body bytes then analyzes them; undefined for malformed JSON. */
export function analyzePromptBytes(
  path: string,
  bytes: Uint8Array,
  hint: GenerateHint,
): PromptAnalysis | undefined {
  let body: unknown
  try {
    body = JSON.parse(UTF8.decode(bytes))
  } catch {
    return undefined
  }
  return analyzePromptBody(path, body, hint)
}
