// Response bodies of the scripted engine, per API format, shaped as the real engines send them (API
// docs listed in src/engines/_schemas.ts): OpenAI SSE with `data: [DONE]` and an optional usage
// chunk (choices: []), vLLM demo NDJSON with cumulative text, TGI SSE with `data:` and no [DONE]
// (the last token event carries generated_text + details), SGLang SSE with cumulative text and
// meta_info, llama.cpp SSE whose last event has stop:true, timings and token counts.
import type { ScriptedFormat, ScriptedRequest } from './_request.js'

export interface ScriptedExchange {
  req: ScriptedRequest
  id: string
  model: string
  created: number
  promptTokens: number
  outputTokens: number
  /** Why generation ended (default 'length': the scripted engine always runs to max_tokens). */
  finishReason?: 'stop' | 'length'
  /** Prompt tokens served from the prefix cache (default 0). */
  cachedTokens?: number
  /** llama.cpp's final timings in ms (default: fixed figures). */
  timingsMs?: { prompt: number; predicted: number }
}

const stopped = (x: ScriptedExchange) => x.finishReason === 'stop'
const openaiFinish = (x: ScriptedExchange) => (stopped(x) ? 'stop' : 'length')
const tgiFinish = (x: ScriptedExchange) => (stopped(x) ? 'eos_token' : 'length')
// Qwen3's <|im_end|>, the stop token SGLang reports as `matched`.
const sglangFinish = (x: ScriptedExchange) =>
  stopped(x) ? { type: 'stop', matched: 151645 } : { type: 'length', length: x.outputTokens }

export function streamContentType(format: ScriptedFormat): string {
  return format === 'vllm-generate' ? 'application/x-ndjson' : 'text/event-stream'
}

const sse = (v: unknown) => `data: ${JSON.stringify(v)}\n\n`

function usage(x: ScriptedExchange) {
  return {
    prompt_tokens: x.promptTokens,
    completion_tokens: x.outputTokens,
    total_tokens: x.promptTokens + x.outputTokens,
  }
}

function chunkBase(x: ScriptedExchange, object: string) {
  return { id: x.id, object, created: x.created, model: x.model }
}

/** What goes out with the response headers (the role-only chunk of a chat stream). */
export function renderStreamHead(x: ScriptedExchange): string {
  if (x.req.format !== 'openai-chat') return ''
  return sse({
    ...chunkBase(x, 'chat.completion.chunk'),
    choices: [
      { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
    ],
  })
}

/** The chunk carrying output token `i` (0-based); `soFar` is the output text including it. */
export function renderStreamToken(
  x: ScriptedExchange,
  i: number,
  text: string,
  soFar: string,
): string {
  const last = i === x.outputTokens - 1
  const finish = last ? openaiFinish(x) : null
  switch (x.req.format) {
    case 'openai-chat':
      return sse({
        ...chunkBase(x, 'chat.completion.chunk'),
        choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: finish }],
      })
    case 'openai-completions':
      return sse({
        ...chunkBase(x, 'text_completion'),
        choices: [{ index: 0, text, logprobs: null, finish_reason: finish, stop_reason: null }],
      })
    case 'vllm-generate':
      return `${JSON.stringify({ text: [x.req.promptText + soFar] })}\n`
    case 'tgi-generate':
    case 'tgi-generate-stream':
      // TGI: `data:` without a space
      // (https://github.com/huggingface/text-generation-inference/blob/main/router/src/server.rs).
      return `data:${JSON.stringify({
        index: i + 1,
        token: { id: 1000 + i, text, logprob: -0.1, special: false },
        generated_text: last ? soFar : null,
        details: last
          ? {
              finish_reason: tgiFinish(x),
              generated_tokens: x.outputTokens,
              seed: null,
              input_length: x.promptTokens,
            }
          : null,
      })}\n\n`
    case 'sglang-generate':
      return sse({
        text: soFar,
        meta_info: {
          id: x.id,
          finish_reason: last ? sglangFinish(x) : null,
          prompt_tokens: x.promptTokens,
          completion_tokens: i + 1,
          cached_tokens: x.cachedTokens ?? 0,
        },
      })
    case 'llamacpp-completion':
      return sse({ index: 0, content: text, stop: false, id_slot: 0 })
  }
}

/** What follows the last token: usage chunk and [DONE], or the final llama.cpp event. */
export function renderStreamTail(x: ScriptedExchange): string {
  switch (x.req.format) {
    case 'openai-chat':
    case 'openai-completions': {
      const object = x.req.format === 'openai-chat' ? 'chat.completion.chunk' : 'text_completion'
      const u = x.req.includeUsage
        ? sse({ ...chunkBase(x, object), choices: [], usage: usage(x) })
        : ''
      return `${u}data: [DONE]\n\n`
    }
    case 'sglang-generate':
      return 'data: [DONE]\n\n'
    case 'llamacpp-completion':
      return sse({ index: 0, content: '', stop: true, ...llamaFinal(x) })
    default:
      return ''
  }
}

function llamaFinal(x: ScriptedExchange) {
  return {
    model: x.model,
    tokens_predicted: x.outputTokens,
    tokens_evaluated: x.promptTokens,
    stop_type: stopped(x) ? 'eos' : 'limit',
    truncated: false,
    timings: {
      cache_n: x.cachedTokens ?? 0,
      prompt_n: x.promptTokens - (x.cachedTokens ?? 0),
      prompt_ms: x.timingsMs?.prompt ?? 10,
      predicted_n: x.outputTokens,
      predicted_ms: x.timingsMs?.predicted ?? 100,
    },
  }
}

/** A non-streamed response: body and extra headers. */
export function renderWhole(
  x: ScriptedExchange,
  text: string,
): { body: string; headers: Record<string, string> } {
  const json = (v: unknown, headers: Record<string, string> = {}) => ({
    body: JSON.stringify(v),
    headers,
  })
  switch (x.req.format) {
    case 'openai-chat':
      return json({
        ...chunkBase(x, 'chat.completion'),
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: text },
            logprobs: null,
            finish_reason: openaiFinish(x),
          },
        ],
        usage: usage(x),
      })
    case 'openai-completions':
      return json({
        ...chunkBase(x, 'text_completion'),
        choices: [
          { index: 0, text, logprobs: null, finish_reason: openaiFinish(x), stop_reason: null },
        ],
        usage: usage(x),
      })
    case 'vllm-generate':
      return json({ text: [x.req.promptText + text] })
    case 'tgi-generate':
    case 'tgi-generate-stream':
      return json(
        {
          generated_text: text,
          details: { finish_reason: tgiFinish(x), generated_tokens: x.outputTokens, seed: null },
        },
        { 'x-prompt-tokens': String(x.promptTokens), 'x-generated-tokens': String(x.outputTokens) },
      )
    case 'sglang-generate':
      return json({
        text,
        meta_info: {
          id: x.id,
          finish_reason: sglangFinish(x),
          prompt_tokens: x.promptTokens,
          completion_tokens: x.outputTokens,
          cached_tokens: x.cachedTokens ?? 0,
        },
      })
    case 'llamacpp-completion':
      return json({ index: 0, content: text, stop: true, id_slot: 0, ...llamaFinal(x) })
  }
}
