// Each simulated engine's own HTTP surface: which LLM routes it serves, its discovery endpoints
// (what src/engines probes: vLLM /version and /v1/models with max_model_len, TGI /info, SGLang
// /get_model_info and /get_server_info, llama.cpp /props and /slots), its /health while ready and
// while loading, and its error bodies: prompt over the context, invalid body, overloaded. Shapes
// from the engines' servers: https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html,
// https://github.com/huggingface/text-generation-inference/blob/main/router/src/server.rs,
// https://docs.sglang.io/basic_usage/native_api.html,
// https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md.
import type { Dialect } from './_dialects.js'
import type { ScriptedFormat, ScriptedRequest } from './_request.js'

export interface Answer {
  status: number
  body: string
  contentType: string
  /** TGI counts a refused request as tgi_request_failure{err}. */
  failure?: 'validation' | 'overloaded'
}

export interface ApiContext {
  dialect: Dialect
  /** Served model name. */
  model: string
  hfId: string
  maxModelLen: number
  kvTokenBudget: number
  gpuMemoryUtilization: number
  maxNumSeqs: number
  maxBatchedTokens: number
  createdUnixS: number
}

export interface EngineApi {
  /** The parser's path for an LLM route this engine serves (aliases mapped), else undefined. */
  llmPath(path: string): string | undefined
  accepts(format: ScriptedFormat): boolean
  /** GET discovery/health endpoints while ready. */
  info(path: string): Answer | undefined
  /** What every route answers while the engine loads. */
  loading(path: string): Answer
  /** An error when prompt (+ max tokens) exceeds the context. */
  tooLong(req: ScriptedRequest, promptTokens: number): Answer | undefined
  invalid(why: string): Answer
  /** TGI: 429 beyond max_concurrent_requests. */
  maxConcurrent: number | undefined
  overloaded(): Answer
  /** Output length when the request names none: [tokens, finish reason]. */
  defaultOutput(req: ScriptedRequest, promptTokens: number): [number, 'stop' | 'length']
}

const JSON_TYPE = 'application/json'
const json = (status: number, body: unknown, failure?: Answer['failure']): Answer => ({
  status,
  body: JSON.stringify(body),
  contentType: JSON_TYPE,
  ...(failure ? { failure } : {}),
})
const empty = (status: number): Answer => ({ status, body: '', contentType: 'text/plain' })

/** A "natural" answer length for a request without a limit: 96-351 tokens, fixed per prompt. */
function naturalLength(req: ScriptedRequest): number {
  const n = req.promptText.length + (req.promptIdCount ?? 0)
  return 96 + ((Math.imul(n + 1, 2654435761) >>> 0) % 256)
}

function natural(
  req: ScriptedRequest,
  prompt: number,
  maxLen: number,
): [number, 'stop' | 'length'] {
  const room = Math.max(0, maxLen - prompt)
  const want = naturalLength(req)
  return want <= room ? [want, 'stop'] : [room, 'length']
}

export function createEngineApi(c: ApiContext): EngineApi {
  switch (c.dialect.engine) {
    case 'vllm':
      return vllmApi(c, c.dialect.errorBody)
    case 'sglang':
      return sglangApi(c)
    case 'tgi':
      return tgiApi(c)
    case 'llamacpp':
      return llamacppApi(c)
  }
}

function modelsList(c: ApiContext, ownedBy: string, extra: Record<string, unknown>) {
  return json(200, {
    object: 'list',
    data: [{ id: c.model, object: 'model', created: c.createdUnixS, owned_by: ownedBy, ...extra }],
  })
}

function vllmApi(c: ApiContext, shape: 'flat' | 'nested'): EngineApi {
  const error = (message: string, param: string | null = null) =>
    shape === 'nested'
      ? json(400, { error: { message, type: 'BadRequestError', param, code: 400 } })
      : json(400, { object: 'error', message, type: 'BadRequestError', param, code: 400 })
  const max = c.maxModelLen
  return {
    llmPath: (p) => (p === '/v1/chat/completions' || p === '/v1/completions' ? p : undefined),
    accepts: (f) => f === 'openai-chat' || f === 'openai-completions',
    info(path) {
      if (path === '/health' || path === '/ping') return empty(200)
      if (path === '/version') return json(200, { version: c.dialect.version })
      if (path === '/v1/models')
        return modelsList(c, 'vllm', {
          root: c.hfId,
          parent: null,
          max_model_len: max,
          permission: [],
        })
      return undefined
    },
    loading: () => empty(503),
    tooLong(req, prompt) {
      const out = req.maxTokens
      if (shape === 'nested') {
        if (prompt >= max) {
          const atLeast = Math.min(prompt, max + 1)
          return error(
            `This model's maximum context length is ${max} tokens. However, you requested ${out ?? 0} output tokens and your prompt contains at least ${atLeast} input tokens, for a total of at least ${atLeast + (out ?? 0)} tokens. Please reduce the length of the input prompt or the number of requested output tokens. (parameter=input_tokens, value=${atLeast})`,
            'input_tokens',
          )
        }
        if (out !== undefined && prompt + out > max)
          return error(
            `'max_tokens' or 'max_completion_tokens' is too large: ${out}. This model's maximum context length is ${max} tokens and your request has ${prompt} input tokens (${out} > ${max} - ${prompt}). None`,
          )
        return undefined
      }
      if (out === undefined && prompt >= max)
        return error(
          `This model's maximum context length is ${max} tokens. However, you requested ${prompt} tokens in the messages, Please reduce the length of the messages.`,
        )
      if (out !== undefined && prompt + out > max)
        return error(
          `This model's maximum context length is ${max} tokens. However, you requested ${prompt + out} tokens (${prompt} in the messages, ${out} in the completion). Please reduce the length of the messages or completion.`,
        )
      return undefined
    },
    invalid: (why) => error(why),
    maxConcurrent: undefined,
    overloaded: () => error('overloaded'),
    defaultOutput: (req, prompt) => natural(req, prompt, max),
  }
}

function sglangApi(c: ApiContext): EngineApi {
  const max = c.maxModelLen
  const openaiError = (message: string) =>
    json(400, { object: 'error', message, type: 'BadRequestError', param: null, code: 400 })
  const nativeError = (message: string) => json(400, { error: { message } })
  const errorFor = (req: ScriptedRequest, message: string) =>
    req.format === 'sglang-generate' ? nativeError(message) : openaiError(message)
  return {
    llmPath: (p) =>
      p === '/v1/chat/completions' || p === '/v1/completions' || p === '/generate' ? p : undefined,
    accepts: (f) => f === 'openai-chat' || f === 'openai-completions' || f === 'sglang-generate',
    info(path) {
      if (path === '/health' || path === '/health_generate') return empty(200)
      if (path === '/get_model_info')
        return json(200, {
          model_path: c.hfId,
          tokenizer_path: c.hfId,
          is_generation: true,
          preferred_sampling_params: null,
          weight_version: 'default',
        })
      if (path === '/get_server_info' || path === '/server_info')
        return json(200, {
          model_path: c.hfId,
          tokenizer_path: c.hfId,
          served_model_name: c.model,
          context_length: max,
          mem_fraction_static: c.gpuMemoryUtilization,
          max_running_requests: c.maxNumSeqs,
          chunked_prefill_size: c.maxBatchedTokens,
          max_total_num_tokens: c.kvTokenBudget,
          max_req_input_len: max - 1,
          enable_metrics: true,
          version: c.dialect.version,
        })
      if (path === '/v1/models')
        return modelsList(c, 'sglang', { root: c.model, max_model_len: max })
      return undefined
    },
    loading: () => empty(503),
    tooLong(req, prompt) {
      if (prompt >= max)
        return errorFor(
          req,
          `The input (${prompt} tokens) is longer than the model's context length (${max} tokens).`,
        )
      const out = req.maxTokens
      if (out !== undefined && prompt + out > max)
        return errorFor(
          req,
          `Requested token count exceeds the model's maximum context length of ${max} tokens. You requested a total of ${prompt + out} tokens: ${prompt} tokens from the input messages and ${out} tokens for the completion. Please reduce the number of tokens in the input messages or the completion to fit within the limit.`,
        )
      return undefined
    },
    invalid: (why) => openaiError(why),
    maxConcurrent: undefined,
    overloaded: () => openaiError('overloaded'),
    // SGLang's sampling params default to max_new_tokens 128 on /generate.
    defaultOutput: (req, prompt) =>
      req.format === 'sglang-generate'
        ? [Math.min(128, Math.max(0, max - prompt)), 'length']
        : natural(req, prompt, max),
  }
}

function tgiApi(c: ApiContext): EngineApi {
  const maxTotal = c.maxModelLen
  const maxInput = maxTotal - 1
  const validation = (message: string) =>
    json(
      422,
      { error: `Input validation error: ${message}`, error_type: 'validation' },
      'validation',
    )
  return {
    llmPath: (p) =>
      ['/generate', '/generate_stream', '/v1/chat/completions', '/v1/completions'].includes(p)
        ? p
        : undefined,
    accepts: (f) => f !== 'sglang-generate' && f !== 'vllm-generate' && f !== 'llamacpp-completion',
    info(path) {
      if (path === '/health') return empty(200)
      if (path === '/info')
        return json(200, {
          model_id: c.hfId,
          model_sha: null,
          model_pipeline_tag: 'text-generation',
          max_concurrent_requests: 128,
          max_best_of: 2,
          max_stop_sequences: 4,
          max_input_tokens: maxInput,
          max_total_tokens: maxTotal,
          validation_workers: 2,
          max_client_batch_size: 4,
          router: 'text-generation-router',
          version: c.dialect.version,
          sha: null,
          docker_label: null,
        })
      if (path === '/v1/models') return modelsList(c, c.hfId, {})
      return undefined
    },
    loading: () => json(503, { error: 'unhealthy', error_type: 'healthcheck' }),
    tooLong(req, prompt) {
      if (prompt > maxInput)
        return validation(`\`inputs\` must have less than ${maxInput} tokens. Given: ${prompt}`)
      const out = req.maxTokens
      if (out !== undefined && prompt + out > maxTotal)
        return validation(
          `\`inputs\` tokens + \`max_new_tokens\` must be <= ${maxTotal}. Given: ${prompt} \`inputs\` tokens and ${out} \`max_new_tokens\``,
        )
      return undefined
    },
    invalid: (why) => validation(why),
    maxConcurrent: 128,
    overloaded: () =>
      json(429, { error: 'Model is overloaded', error_type: 'overloaded' }, 'overloaded'),
    // TGI's generate parameters default to max_new_tokens 100.
    defaultOutput: (req, prompt) =>
      req.format === 'tgi-generate' || req.format === 'tgi-generate-stream'
        ? [Math.min(100, Math.max(0, maxTotal - prompt)), 'length']
        : natural(req, prompt, maxTotal),
  }
}

function llamacppApi(c: ApiContext): EngineApi {
  const nCtx = c.maxModelLen
  const slots = c.maxNumSeqs
  const alias: Record<string, string> = {
    '/completion': '/completion',
    '/completions': '/completion',
    '/v1/completions': '/v1/completions',
    '/chat/completions': '/v1/chat/completions',
    '/v1/chat/completions': '/v1/chat/completions',
  }
  const modelPath = `/models/${c.hfId.split('/').pop() ?? c.model}-BF16.gguf`
  return {
    llmPath: (p) => alias[p],
    accepts: (f) =>
      f === 'openai-chat' || f === 'openai-completions' || f === 'llamacpp-completion',
    info(path) {
      if (path === '/health' || path === '/v1/health') return json(200, { status: 'ok' })
      if (path === '/props')
        return json(200, {
          default_generation_settings: { id: 0, n_ctx: nCtx, n_predict: -1, speculative: false },
          total_slots: slots,
          model_alias: c.model,
          model_path: modelPath,
          modalities: { vision: false, audio: false },
          endpoint_slots: true,
          endpoint_props: false,
          endpoint_metrics: true,
          build_info: `${c.dialect.version}-0000000`,
          is_sleeping: false,
        })
      if (path === '/v1/models' || path === '/models')
        return modelsList(c, 'llamacpp', {
          meta: { vocab_type: 2, n_vocab: 151936, n_ctx_train: nCtx, n_params: 0, size: 0 },
        })
      return undefined
    },
    loading: () =>
      json(503, { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } }),
    tooLong(_req, prompt) {
      if (prompt < nCtx) return undefined
      return json(400, {
        error: {
          code: 400,
          message: `request (${prompt} tokens) exceeds the available context size (${nCtx} tokens), try increasing it`,
          type: 'exceed_context_size_error',
          n_prompt_tokens: prompt,
          n_ctx: nCtx,
        },
      })
    },
    invalid: (why) =>
      json(400, { error: { code: 400, message: why, type: 'invalid_request_error' } }),
    maxConcurrent: undefined,
    overloaded: () =>
      json(503, { error: { code: 503, message: 'busy', type: 'unavailable_error' } }),
    defaultOutput: (req, prompt) => natural(req, prompt, nCtx),
  }
}
