import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { closeServer, listenLocal, REPO_ROOT } from './index.js'

// Test helper (not used at run time): real HTTP servers on 127.0.0.1 that answer like each
// engine's discovery endpoints, with the API formats each engine's own docs and source give
// (links on each route set below).

export interface FakeReply {
  status?: number
  body: string | object
  contentType?: string
  /** Milliseconds before answering (a hung endpoint). */
  delayMs?: number
}

export type FakeRoute = FakeReply | ((req: IncomingMessage, body: string) => FakeReply)
export type FakeRoutes = Record<string, FakeRoute>

export interface FakeEngine {
  url: string
  /** Paths requested so far, e.g. `GET /health`. */
  requests: string[]
  /** Replaces or adds routes while running (e.g. loading -> ready). */
  setRoutes(routes: FakeRoutes): void
  close(): Promise<void>
}

export const PROM_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Starts a server answering `routes` (`"/path"` or `"POST /path"`); anything else is 404. */
export async function startFakeEngine(routes: FakeRoutes): Promise<FakeEngine> {
  let table = { ...routes }
  const requests: string[] = []
  const timers = new Set<NodeJS.Timeout>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/'
      requests.push(`${req.method} ${path}`)
      const route =
        table[`${req.method} ${path}`] ?? (req.method === 'GET' ? table[path] : undefined)
      if (!route) return send(res, { status: 404, body: { detail: 'Not Found' } })
      const reply =
        typeof route === 'function' ? route(req, Buffer.concat(chunks).toString('utf8')) : route
      if (reply.delayMs) {
        const t = setTimeout(() => {
          timers.delete(t)
          send(res, reply)
        }, reply.delayMs)
        timers.add(t)
      } else send(res, reply)
    })
  })
  const url = await listenLocal(server)
  return {
    url,
    requests,
    setRoutes(next) {
      table = { ...table, ...next }
    },
    async close() {
      for (const t of timers) clearTimeout(t)
      await closeServer(server)
    },
  }
}

function send(res: ServerResponse, reply: FakeReply): void {
  if (res.destroyed) return
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body)
  res.writeHead(reply.status ?? 200, {
    'content-type':
      reply.contentType ?? (typeof reply.body === 'string' ? 'text/plain' : 'application/json'),
  })
  res.end(text)
}

/** A committed fixture under src/engines/testdata/. */
export function readEngineTestdata(name: string): string {
  return readFileSync(join(REPO_ROOT, 'src/engines/testdata', name), 'utf8')
}

const metricsReply = (text: string): FakeReply => ({ body: text, contentType: PROM_CONTENT_TYPE })

const completion = (model: string): FakeRoute => ({
  body: {
    id: 'cmpl-1',
    object: 'text_completion',
    created: 1,
    model,
    choices: [{ index: 0, text: ' ok', finish_reason: 'length' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  },
})

export interface VllmOptions {
  model?: string
  version?: string
  maxModelLen?: number
  metrics?: string | null
}

/**
 * vLLM's OpenAI server (https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html):
 * /health, /version, /v1/models with max_model_len, /metrics.
 */
export function vllmRoutes(o: VllmOptions = {}): FakeRoutes {
  const model = o.model ?? 'qwen3-4b-instruct-2507'
  const routes: FakeRoutes = {
    '/health': { body: '' },
    '/version': { body: { version: o.version ?? '0.10.0' } },
    '/v1/models': {
      body: {
        object: 'list',
        data: [
          {
            id: model,
            object: 'model',
            created: 1,
            owned_by: 'vllm',
            root: 'Qwen/Qwen3-4B-Instruct-2507',
            parent: null,
            max_model_len: o.maxModelLen ?? 262144,
            permission: [],
          },
        ],
      },
    },
    'POST /v1/completions': completion(model),
  }
  if (o.metrics !== null)
    routes['/metrics'] = metricsReply(o.metrics ?? readEngineTestdata('vllm-qwen3-4b.prom'))
  return routes
}

/**
 * TGI (https://huggingface.co/docs/text-generation-inference, router/src/server.rs): /info,
 * /health, /v1/models, /metrics always on.
 */
export function tgiRoutes(o: { metrics?: string } = {}): FakeRoutes {
  const model = 'Qwen/Qwen3-4B-Instruct-2507'
  return {
    '/health': { body: '' },
    '/info': {
      body: {
        model_id: model,
        model_sha: null,
        model_pipeline_tag: 'text-generation',
        max_concurrent_requests: 128,
        max_best_of: 2,
        max_stop_sequences: 4,
        max_input_tokens: 32767,
        max_total_tokens: 32768,
        validation_workers: 2,
        max_client_batch_size: 4,
        router: 'text-generation-router',
        version: '3.3.6',
        sha: null,
      },
    },
    '/v1/models': {
      body: { object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: model }] },
    },
    '/metrics': metricsReply(o.metrics ?? readEngineTestdata('tgi-synthetic.prom')),
    'POST /v1/completions': completion(model),
  }
}

/**
 * SGLang (https://github.com/sgl-project/sglang/blob/main/docs/advanced_features/observability.md):
 * /get_model_info, /get_server_info, /metrics only with --enable-metrics.
 */
export function sglangRoutes(o: { metrics?: string | null } = {}): FakeRoutes {
  const model = 'Qwen/Qwen3-4B-Instruct-2507'
  const routes: FakeRoutes = {
    '/health': { body: '' },
    '/get_model_info': { body: { model_path: model, tokenizer_path: model, is_generation: true } },
    '/get_server_info': {
      body: {
        model_path: model,
        context_length: 32768,
        mem_fraction_static: 0.88,
        tp_size: 1,
        max_total_num_tokens: 150000,
        version: '0.4.9',
      },
    },
    '/v1/models': {
      body: {
        object: 'list',
        data: [{ id: model, object: 'model', created: 1, owned_by: 'sglang', root: model }],
      },
    },
    'POST /v1/completions': completion(model),
  }
  if (o.metrics !== null && o.metrics !== undefined) routes['/metrics'] = metricsReply(o.metrics)
  return routes
}

/**
 * llama.cpp llama-server (https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md):
 * /props, /health 503 while loading, /metrics 501 without --metrics.
 */
export function llamacppRoutes(o: { metrics?: string | null; loading?: boolean } = {}): FakeRoutes {
  const loadingBody = { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } }
  if (o.loading) {
    const all: FakeRoutes = {}
    for (const p of ['/health', '/v1/models', '/props', '/metrics', 'POST /v1/completions'])
      all[p] = { status: 503, body: loadingBody }
    return all
  }
  const model = 'Qwen3-4B-Instruct-2507-Q4_K_M.gguf'
  return {
    '/health': { body: { status: 'ok' } },
    '/props': {
      body: {
        default_generation_settings: { n_ctx: 8192, params: { n_predict: -1 } },
        total_slots: 1,
        model_path: `/models/${model}`,
        model_alias: '',
        endpoint_metrics: o.metrics !== null,
        build_info: 'b6123-0123abcd',
        is_sleeping: false,
      },
    },
    '/v1/models': {
      body: {
        object: 'list',
        data: [
          {
            id: model,
            object: 'model',
            created: 1,
            owned_by: 'llamacpp',
            meta: { n_ctx_train: 262144, n_params: 4022468096 },
          },
        ],
      },
    },
    '/metrics':
      o.metrics === null
        ? {
            status: 501,
            body: {
              error: {
                code: 501,
                message: 'This server does not support metrics endpoint. Start it with `--metrics`',
                type: 'not_supported_error',
              },
            },
          }
        : metricsReply(o.metrics ?? 'llamacpp:prompt_tokens_total 1\n'),
    'POST /v1/completions': completion(model),
  }
}
