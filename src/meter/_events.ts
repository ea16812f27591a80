// What one response object says, whatever engine sent it (README: Metrics, "Token counts"): whether
// it carries generated content (for TTFT), the text to count when the engine reports no usage, and
// the engine's own token counts. Shapes are recognised by their fields, not by a route guess, so a
// response is read right even before a large request body has been parsed.

export type ResponseShape = 'openai' | 'tgi' | 'sglang' | 'llamacpp' | 'vllm-demo' | 'unknown'

export interface ResponseFacts {
  shape: ResponseShape
  /** Carries generated content: a role-only chat chunk or an empty delta does not. */
  content: boolean
  /** New output text in this object (deltas), for counting when no usage is reported. */
  text: string
  /** Whole text so far (vLLM demo: prompt + output; SGLang: output), when the shape is cumulative. */
  cumulativeText: string | undefined
  promptTokens: number | undefined
  outputTokens: number | undefined
}

type Json = Record<string, unknown>
const obj = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined
const count = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined
const str = (v: unknown): string => (typeof v === 'string' ? v : '')

// Field by field: an object spread that overrides a key takes V8's slow path (µs per event).
function facts(shape: ResponseShape, p: Partial<ResponseFacts> = {}): ResponseFacts {
  return {
    shape,
    content: p.content ?? false,
    text: p.text ?? '',
    cumulativeText: p.cumulativeText,
    promptTokens: p.promptTokens,
    outputTokens: p.outputTokens,
  }
}

function readOpenAi(json: Json): ResponseFacts {
  let text = ''
  let content = false
  const choices = Array.isArray(json.choices) ? json.choices : []
  for (const c of choices) {
    const choice = obj(c)
    if (!choice) continue
    const delta = obj(choice.delta) ?? obj(choice.message)
    if (delta) {
      // vLLM: reasoning_content (older) / reasoning (newer) stream before content.
      const piece = str(delta.content) + str(delta.reasoning_content) + str(delta.reasoning)
      text += piece
      const tools = Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0
      if (piece.length > 0 || tools) content = true
      if (tools)
        for (const t of delta.tool_calls as unknown[]) text += str(obj(obj(t)?.function)?.arguments)
    } else if (typeof choice.text === 'string' && choice.text.length > 0) {
      text += choice.text
      content = true
    }
  }
  const usage = obj(json.usage)
  const timings = obj(json.timings) // llama.cpp adds these to its OpenAI routes too
  return facts('openai', {
    content,
    text,
    promptTokens: count(usage?.prompt_tokens) ?? llamaPrompt(timings),
    outputTokens: count(usage?.completion_tokens) ?? count(timings?.predicted_n),
  })
}

function llamaPrompt(timings: Json | undefined): number | undefined {
  const n = count(timings?.prompt_n)
  return n === undefined ? undefined : n + (count(timings?.cache_n) ?? 0)
}

/** Reads one parsed JSON object from a response (an SSE event, an NDJSON line or a whole body). */
export function readResponseObject(value: unknown): ResponseFacts {
  const json = obj(value)
  if (!json) return facts('unknown')
  if (Array.isArray(json.choices) || obj(json.usage)) return readOpenAi(json)
  if (obj(json.token) || 'generated_text' in json) {
    // TGI: token events, the last one (and a whole /generate body) with details.
    const token = obj(json.token)
    const details = obj(json.details)
    return facts('tgi', {
      content: token !== undefined,
      text: token && token.special !== true ? str(token.text) : '',
      cumulativeText: token ? undefined : str(json.generated_text),
      promptTokens: count(details?.input_length),
      outputTokens: count(details?.generated_tokens),
    })
  }
  if (obj(json.meta_info) || typeof json.text === 'string') {
    const meta = obj(json.meta_info)
    const text = str(json.text)
    return facts('sglang', {
      content: text.length > 0,
      cumulativeText: text,
      promptTokens: count(meta?.prompt_tokens),
      outputTokens: count(meta?.completion_tokens),
    })
  }
  if (typeof json.content === 'string' && 'stop' in json) {
    const timings = obj(json.timings)
    return facts('llamacpp', {
      content: json.content.length > 0,
      text: json.content,
      promptTokens: count(json.tokens_evaluated) ?? llamaPrompt(timings),
      outputTokens: count(json.tokens_predicted) ?? count(timings?.predicted_n),
    })
  }
  if (Array.isArray(json.text)) {
    const first = json.text[0]
    return facts('vllm-demo', {
      content: true,
      cumulativeText: typeof first === 'string' ? first : undefined,
    })
  }
  return facts('unknown')
}
