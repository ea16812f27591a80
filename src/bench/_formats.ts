// Each endpoint's request body and how its answer reads, streamed or whole:
// OpenAI chat and completions (https://platform.openai.com/docs/api-reference/chat/streaming;
// vLLM's extensions ignore_eos and stream_options.include_usage,
// https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html), TGI's /generate_stream
// SSE and /generate (https://huggingface.github.io/text-generation-inference/), vLLM's demo
// /generate NDJSON with cumulative text (vllm/entrypoints/api_server.py), llama.cpp's /completion
// (https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md).
import type { BuiltPrompt } from './_prompts.js'
import type { BenchEndpoint, TargetSpec } from './types.js'

export interface Exchange {
  path: string
  body: Buffer
}

/** What one event of the answer told (one SSE `data:` line or NDJSON line). */
export interface EventFacts {
  content: boolean
  /** A chat chunk with a role and no content. */
  roleOnly: boolean
  done: boolean
  promptTokens?: number
  outputTokens?: number
  error?: string
}

const NOTHING: EventFacts = { content: false, roleOnly: false, done: false }
const DONE: EventFacts = { content: false, roleOnly: false, done: true }

export function endpointPath(endpoint: BenchEndpoint, stream: boolean): string {
  switch (endpoint) {
    case 'chat':
      return '/v1/chat/completions'
    case 'completions':
      return '/v1/completions'
    case 'tgi-generate':
      return stream ? '/generate_stream' : '/generate'
    case 'vllm-generate':
      return '/generate'
    case 'llamacpp':
      return '/completion'
  }
}

/** The request body in parts: a long prompt's shared tail is written as its own buffer. */
export function buildRequestBody(
  t: TargetSpec,
  prompt: BuiltPrompt,
  outputTokens: number,
): Buffer[] {
  const tail = prompt.tail?.json
  // The prompt value, open where the tail goes in: `"text` + tail + `"`, or `[ids` + tail + `]`.
  let open: string
  let close: string
  if (prompt.ids) {
    open = `[${prompt.ids.join(',')}`
    close = ']'
  } else {
    const quoted = JSON.stringify(prompt.text ?? '')
    open = quoted.slice(0, -1)
    close = '"'
  }
  const m = JSON.stringify(t.model)
  const eos = t.ignoreEos ? ',"ignore_eos":true' : ''
  const s = t.stream
  let before: string
  let after: string
  switch (t.endpoint) {
    case 'chat':
    case 'completions': {
      const stream = s ? ',"stream":true,"stream_options":{"include_usage":true}' : ''
      before =
        t.endpoint === 'chat'
          ? `{"model":${m},"messages":[{"role":"user","content":${open}`
          : `{"model":${m},"prompt":${open}`
      after = `${close}${t.endpoint === 'chat' ? '}]' : ''},"max_tokens":${outputTokens}${stream}${eos}}`
      break
    }
    case 'tgi-generate':
      before = `{"inputs":${open}`
      after = `${close},"parameters":{"max_new_tokens":${outputTokens},"details":true}}`
      break
    case 'vllm-generate':
      before = `{"prompt":${open}`
      after = `${close},"max_tokens":${outputTokens},"stream":${s}${eos}}`
      break
    case 'llamacpp':
      before = `{"prompt":${open}`
      after = `${close},"n_predict":${outputTokens},"stream":${s}${eos}}`
      break
  }
  if (!tail) return [Buffer.from(before + after)]
  return [Buffer.from(before), tail, Buffer.from(after)]
}

type Json = Record<string, unknown>
const obj = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined
const nonEmpty = (v: unknown) => typeof v === 'string' && v.length > 0

function errorText(j: Json): string | undefined {
  const e = j.error
  if (typeof e === 'string') return e
  const eo = obj(e)
  if (eo && typeof eo.message === 'string') return eo.message
  return undefined
}

function openaiEvent(j: Json, chat: boolean): EventFacts {
  const err = errorText(j)
  if (err) return { ...NOTHING, error: err }
  const usage = obj(j.usage)
  const choice = Array.isArray(j.choices) ? obj(j.choices[0]) : undefined
  let content = false
  let roleOnly = false
  if (choice) {
    if (chat) {
      const d = obj(choice.delta) ?? obj(choice.message)
      content =
        !!d &&
        (nonEmpty(d.content) ||
          nonEmpty(d.reasoning_content) ||
          nonEmpty(d.reasoning) ||
          (Array.isArray(d.tool_calls) && d.tool_calls.length > 0))
      roleOnly = !content && !!d && typeof d.role === 'string'
    } else content = nonEmpty(choice.text)
  }
  if (!usage) return { content, roleOnly, done: false }
  const pt = num(usage.prompt_tokens)
  const ct = num(usage.completion_tokens)
  return {
    content,
    roleOnly,
    done: false,
    ...(pt !== undefined ? { promptTokens: pt } : {}),
    ...(ct !== undefined ? { outputTokens: ct } : {}),
  }
}

function tgiEvent(j: Json): EventFacts {
  const err = errorText(j)
  if (err) return { ...NOTHING, error: err }
  const token = obj(j.token)
  const details = obj(j.details)
  // Every token event is a generated token, special ones (EOS) included.
  const facts: EventFacts = {
    content: !!token || nonEmpty(j.generated_text),
    roleOnly: false,
    done: false,
  }
  if (details) {
    const gt = num(details.generated_tokens)
    const il = num(details.input_length)
    if (gt !== undefined) facts.outputTokens = gt
    if (il !== undefined) facts.promptTokens = il
  }
  return facts
}

function llamaEvent(j: Json): EventFacts {
  const err = errorText(j)
  if (err) return { ...NOTHING, error: err }
  const facts: EventFacts = { content: nonEmpty(j.content), roleOnly: false, done: j.stop === true }
  const pred = num(j.tokens_predicted)
  const evald = num(j.tokens_evaluated)
  if (pred !== undefined) facts.outputTokens = pred
  if (evald !== undefined) facts.promptTokens = evald
  return facts
}

/** Reads one event's payload (an SSE data line without `data:`, or an NDJSON line). */
export function createEventReader(endpoint: BenchEndpoint): (payload: string) => EventFacts {
  let lastLength = 0
  return (payload) => {
    if (payload === '[DONE]') return DONE
    let j: Json | undefined
    try {
      j = obj(JSON.parse(payload))
    } catch {
      return { ...NOTHING, error: `not JSON: ${payload.slice(0, 80)}` }
    }
    if (!j) return NOTHING
    switch (endpoint) {
      case 'chat':
        return openaiEvent(j, true)
      case 'completions':
        return openaiEvent(j, false)
      case 'tgi-generate':
        return tgiEvent(j)
      case 'llamacpp':
        return llamaEvent(j)
      case 'vllm-generate': {
        // Cumulative text (prompt included): content when it grew.
        const text = Array.isArray(j.text) ? j.text[0] : undefined
        if (typeof text !== 'string') return NOTHING
        const grew = text.length > lastLength
        lastLength = text.length
        return { content: grew && lastLength > 0, roleOnly: false, done: false }
      }
    }
  }
}

/** A whole (non-streamed) answer: usage and whether any output came back. */
export function readWholeAnswer(endpoint: BenchEndpoint, body: string): EventFacts {
  if (endpoint === 'tgi-generate') {
    let j: unknown
    try {
      j = JSON.parse(body)
    } catch {
      return { ...NOTHING, error: `not JSON: ${body.slice(0, 80)}` }
    }
    const first = Array.isArray(j) ? obj(j[0]) : obj(j)
    if (!first) return NOTHING
    const facts = tgiEvent(first)
    return { ...facts, content: nonEmpty(first.generated_text) }
  }
  if (endpoint === 'vllm-generate') {
    const read = createEventReader(endpoint)
    return read(body)
  }
  return createEventReader(endpoint)(body)
}
