// A scripted inference engine for tests: a real node:http server on 127.0.0.1 port 0 that speaks
// every API format the meter understands with a known schedule — response headers (and a chat
// stream's role-only chunk) at once, first content `firstTokenMs` after the request arrived,
// further tokens `interTokenMs` apart — and counts usage as the engine would (prompt: the real
// Qwen3 tokenizer on the prompt text / rendered ChatML, unless `promptTokens` overrides it; the
// tokenizer runs in a worker, started at the first request that needs it, and a count is awaited
// only where the format carries it — so the schedule holds even while the tokenizer loads).
// Every output token is one Qwen3 token (single-token words with a leading space), so counting the
// streamed text with the tokenizer gives `outputTokens` exactly.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { closeHttpServer, type HostPort, listenHttp } from '../shared/index.js'
import { createTokenCounter, type TokenCounter } from '../tokens/index.js'
import {
  renderStreamHead,
  renderStreamTail,
  renderStreamToken,
  renderWhole,
  type ScriptedExchange,
  streamContentType,
} from './_formats.js'
import { answerInfo } from './_info.js'
import { parseScriptedRequest } from './_request.js'
import type { RecordedRequest, ScriptedEngine, ScriptedEngineOptions } from './_types.js'

export type { ScriptedGauges } from './_metrics.js'
export type {
  RecordedRequest,
  ScriptedEngine,
  ScriptedEngineOptions,
  ScriptedFailure,
} from './_types.js'

// Each a single Qwen3 token (a leading space and a common word).
const WORDS = ' Hello world this is a test of the quick brown fox and'.split(/(?= )/)

const DEFAULTS: ScriptedEngineOptions = {
  firstTokenMs: 80,
  interTokenMs: 15,
  outputTokens: undefined,
  promptTokens: undefined,
  servedModels: ['qwen3-4b-instruct-2507'],
  maxModelLen: 262144,
  headerDelayMs: 0,
  failure: { kind: 'none' },
  healthStatus: 200,
  flavor: 'vllm',
  version: '0.11.0',
  gauges: {},
}
export const DEFAULT_SCRIPTED_OPTIONS: Readonly<ScriptedEngineOptions> = Object.freeze(DEFAULTS)

/** The text of output token `i` (one Qwen3 token each). */
export function scriptedTokenText(i: number): string {
  return WORDS[i % WORDS.length] as string
}

export async function startScriptedEngine(
  initial: Partial<ScriptedEngineOptions> = {},
  listenAt: HostPort = { host: '127.0.0.1', port: 0 },
): Promise<ScriptedEngine> {
  let opts: ScriptedEngineOptions = { ...DEFAULT_SCRIPTED_OPTIONS, ...initial }
  const requests: RecordedRequest[] = []
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  let tokenizer: TokenCounter | undefined
  let live = 0
  let seq = 0
  const totals = { prompt: 0, generation: 0, success: 0 }

  // Never early: libuv schedules from its cached loop time, which can lag performance.now().
  const sleepUntil = async (atMs: number): Promise<void> => {
    while (performance.now() < atMs) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(
          () => {
            timers.delete(t)
            resolve()
          },
          Math.max(1, Math.ceil(atMs - performance.now())),
        )
        timers.add(t)
      })
    }
  }

  const countPrompt = async (text: string, idCount: number | undefined): Promise<number> => {
    if (opts.promptTokens !== undefined) return opts.promptTokens
    if (idCount !== undefined) return idCount
    tokenizer ??= createTokenCounter()
    // (if the worker fails: about 4 bytes per token, so the usage stays plausible)
    return (await tokenizer.countText(text)) ?? Math.ceil(Buffer.byteLength(text) / 4)
  }

  const server = createServer((req, res) => {
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: Buffer.alloc(0),
      receivedAtMs: performance.now(),
      tokenAtMs: [],
      endAtMs: undefined,
      clientClosedEarly: false,
      done: Promise.resolve(),
    }
    requests.push(rec)
    rec.done = new Promise((resolve) => {
      res.once('close', () => {
        if (!res.writableFinished) rec.clientClosedEarly = true
        resolve()
      })
    })
    const chunks: Buffer[] = []
    const collect = () => {
      rec.body = Buffer.concat(chunks)
    }
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('error', () => {})
    req.on('close', collect)
    req.on('end', () => {
      collect()
      route(req, res, rec).catch(() => res.destroy())
    })
  })
  server.on('connection', (s: Socket) => {
    if (opts.failure.kind === 'refuse') {
      s.destroy()
      return
    }
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })

  const sendJson = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  }

  async function route(
    req: IncomingMessage,
    res: ServerResponse,
    rec: RecordedRequest,
  ): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const model = opts.servedModels[0] ?? 'model'
    if (req.method === 'GET') {
      const info = answerInfo(path, { ...opts, live, totals })
      if (info)
        return void res.writeHead(info.status, { 'content-type': info.contentType }).end(info.body)
    }
    const parsed = req.method === 'POST' ? parseScriptedRequest(path, rec.body) : undefined
    if (!parsed) {
      const known = [
        '/v1/chat/completions',
        '/v1/completions',
        '/generate',
        '/generate_stream',
        '/completion',
      ]
      if (req.method === 'POST' && known.includes(path))
        return sendJson(res, 400, {
          object: 'error',
          message: 'invalid request body',
          type: 'BadRequestError',
          code: 400,
        })
      return sendJson(res, 404, { detail: 'Not Found' })
    }
    live++
    try {
      await answer(res, rec, parsed, model)
    } finally {
      live--
    }
  }

  async function answer(
    res: ServerResponse,
    rec: RecordedRequest,
    parsed: NonNullable<ReturnType<typeof parseScriptedRequest>>,
    model: string,
  ): Promise<void> {
    const o = opts
    const t0 = rec.receivedAtMs
    if (o.headerDelayMs > 0) await sleepUntil(t0 + o.headerDelayMs)
    if (res.destroyed) return
    const failure = o.failure
    if (failure.kind === 'status') {
      const body = failure.body ?? {
        object: 'error',
        message: `scripted failure ${failure.status}`,
        type: failure.status === 503 ? 'ServiceUnavailableError' : 'InternalServerError',
        code: failure.status,
      }
      return sendJson(res, failure.status, body)
    }
    const resetAfter = failure.kind === 'reset' ? failure.afterTokens : Number.POSITIVE_INFINITY
    const outputTokens = o.outputTokens ?? parsed.maxTokens ?? 8
    const promptTokens = countPrompt(parsed.promptText, parsed.promptIdCount)
    promptTokens.catch(() => {})
    const x: ScriptedExchange = {
      req: parsed,
      id: `cmpl-scripted-${++seq}`,
      model: parsed.model ?? model,
      created: Math.floor(Date.now() / 1000),
      promptTokens: 0,
      outputTokens,
    }
    let text = ''
    if (!parsed.stream) {
      for (let i = 0; i < outputTokens; i++) text += scriptedTokenText(i)
      await sleepUntil(t0 + o.firstTokenMs + Math.max(0, outputTokens - 1) * o.interTokenMs)
      if (resetAfter !== Number.POSITIVE_INFINITY) return void res.socket?.destroy()
      x.promptTokens = await promptTokens
      const whole = renderWhole(x, text)
      rec.tokenAtMs.push(performance.now())
      res.writeHead(200, { 'content-type': 'application/json', ...whole.headers }).end(whole.body)
      rec.endAtMs = performance.now()
      record(x)
      return
    }
    res.writeHead(200, {
      'content-type': streamContentType(parsed.format),
      'cache-control': 'no-cache',
    })
    res.flushHeaders()
    const head = renderStreamHead(x)
    if (head) res.write(head)
    for (let i = 0; i < outputTokens; i++) {
      await sleepUntil(t0 + o.firstTokenMs + i * o.interTokenMs)
      if (res.destroyed) return
      if (i >= resetAfter) return void res.socket?.destroy()
      // Token chunks carry the prompt count only in SGLang (every chunk) and TGI (the last one).
      if (parsed.format === 'sglang-generate' || i === outputTokens - 1)
        x.promptTokens = await promptTokens
      const t = scriptedTokenText(i)
      text += t
      rec.tokenAtMs.push(performance.now())
      res.write(renderStreamToken(x, i, t, text))
    }
    if (resetAfter <= outputTokens) return void res.socket?.destroy()
    x.promptTokens = await promptTokens
    res.end(renderStreamTail(x))
    rec.endAtMs = performance.now()
    record(x)
  }

  function record(x: ScriptedExchange) {
    totals.prompt += x.promptTokens
    totals.generation += x.outputTokens
    totals.success++
  }

  const { url } = await listenHttp(server, {
    host: listenAt.host,
    port: listenAt.port,
    what: 'engine simulator',
    code: 'SIM_LISTEN_FAILED',
    flag: '--listen',
  })
  return {
    url,
    requests,
    set(partial) {
      opts = { ...opts, ...partial }
      // Refusing also drops idle keep-alive connections a client (the proxy's pool) holds.
      if (opts.failure.kind === 'refuse') for (const s of sockets) s.destroy()
    },
    inFlight: () => live,
    async warmTokenizer() {
      tokenizer ??= createTokenCounter()
      await tokenizer.countText('')
    },
    async close() {
      await tokenizer?.close()
      for (const t of timers) clearTimeout(t)
      timers.clear()
      for (const s of sockets) s.destroy()
      await closeHttpServer(server)
    },
  }
}
