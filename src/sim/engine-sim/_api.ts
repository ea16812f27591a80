// vLLM's OpenAI-compatible bodies for the simulator: chat and text completions, streamed (SSE with
// `data: [DONE]`, a usage chunk with `stream_options.include_usage`) or whole, and vLLM's error
// shape (https://github.com/vllm-project/vllm/blob/main/vllm/entrypoints/openai/protocol.py
// ErrorResponse; the context-length message from serving_engine.py _validate_input).
import type { ScriptedExchange } from '../_formats.js'
import type { FinishReason } from './_scheduler.js'

const sse = (v: unknown) => `data: ${JSON.stringify(v)}\n\n`

export function errorBody(status: number, type: string, message: string) {
  return { object: 'error', message, type, param: null, code: status }
}

/** The 400 for a prompt (+ max_tokens) over max_model_len, or undefined when it fits. */
export function contextLengthError(
  maxModelLen: number,
  promptTokens: number,
  maxTokens: number | undefined,
): string | undefined {
  if (maxTokens !== undefined && promptTokens + maxTokens > maxModelLen)
    return `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens + maxTokens} tokens (${promptTokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`
  if (promptTokens >= maxModelLen)
    return `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens} tokens in the messages, Please reduce the length of the messages.`
  return undefined
}

const base = (x: ScriptedExchange, object: string) => ({
  id: x.id,
  object,
  created: x.created,
  model: x.model,
})

/** One streamed token; `finish` on the last. */
export function renderToken(
  x: ScriptedExchange,
  text: string,
  finish: FinishReason | null,
): string {
  if (x.req.format === 'openai-chat')
    return sse({
      ...base(x, 'chat.completion.chunk'),
      choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: finish }],
    })
  return sse({
    ...base(x, 'text_completion'),
    choices: [{ index: 0, text, logprobs: null, finish_reason: finish, stop_reason: null }],
  })
}

export function renderWholeResponse(
  x: ScriptedExchange,
  text: string,
  finish: FinishReason,
): string {
  const usage = {
    prompt_tokens: x.promptTokens,
    completion_tokens: x.outputTokens,
    total_tokens: x.promptTokens + x.outputTokens,
  }
  if (x.req.format === 'openai-chat')
    return JSON.stringify({
      ...base(x, 'chat.completion'),
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text },
          logprobs: null,
          finish_reason: finish,
        },
      ],
      usage,
    })
  return JSON.stringify({
    ...base(x, 'text_completion'),
    choices: [{ index: 0, text, logprobs: null, finish_reason: finish, stop_reason: null }],
    usage,
  })
}
