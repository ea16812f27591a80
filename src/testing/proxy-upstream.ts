import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { ExchangeObserver, ExchangeOutcome, Meter } from '../meter/index.js'
import { listenLocal } from './index.js'

// Test helpers for the proxy (not shipped as API): a scriptable upstream, a raw client and a
// meter that records what the proxy told it.

export interface Upstream {
  url: string
  server: Server
  /** Requests seen, with their bodies once fully read. */
  seen: { method: string; url: string; rawHeaders: string[]; body: Buffer; closedEarly: boolean }[]
}

export async function startUpstream(
  handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void,
  onRequest?: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Upstream> {
  const seen: Upstream['seen'] = []
  const server = createServer((req, res) => {
    const rec = {
      method: req.method ?? '',
      url: req.url ?? '',
      rawHeaders: req.rawHeaders,
      body: Buffer.alloc(0),
      closedEarly: false,
    }
    seen.push(rec)
    onRequest?.(req, res)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      rec.body = Buffer.concat(chunks)
      handler(req, res, rec.body)
    })
    res.on('close', () => {
      if (!res.writableFinished) rec.closedEarly = true
    })
  })
  const url = await listenLocal(server)
  return { url, server, seen }
}

export interface Reply {
  status: number
  rawHeaders: string[]
  headers: IncomingHttpHeaders
  body: Buffer
  trailers: Record<string, string | undefined>
}

export function send(
  url: string,
  options: {
    method?: string
    path?: string
    headers?: string[] | Record<string, string>
    body?: Buffer | Buffer[]
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    let headers = options.headers ?? {}
    // Node adds no Host for raw header arrays; HTTP/1.1 requires one.
    if (
      Array.isArray(headers) &&
      !headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'host')
    ) {
      headers = ['Host', u.host, ...headers]
    }
    const req = request(
      {
        hostname: u.hostname,
        port: u.port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            rawHeaders: res.rawHeaders,
            headers: res.headers,
            body: Buffer.concat(chunks),
            trailers: res.trailers,
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    const body = options.body
    if (Array.isArray(body)) for (const b of body) req.write(b)
    else if (body) req.write(body)
    req.end()
  })
}

export interface RecordedExchange {
  url: string
  requestBytes: number
  requestEnded: boolean
  status?: number
  responseBytes: number
  outcome?: ExchangeOutcome
}

export function recordingMeter(
  options: { throwIn?: keyof ExchangeObserver | 'observe' } = {},
): Meter & { exchanges: RecordedExchange[]; ended: Promise<void> } {
  const exchanges: RecordedExchange[] = []
  let notify: () => void = () => {}
  const meter = {
    exchanges,
    get ended() {
      return new Promise<void>((resolve) => {
        notify = resolve
      })
    },
    observe(start: { url: string }) {
      if (options.throwIn === 'observe') throw new Error('meter bug')
      const rec: RecordedExchange = {
        url: start.url,
        requestBytes: 0,
        requestEnded: false,
        responseBytes: 0,
      }
      exchanges.push(rec)
      const maybeThrow = (hook: keyof ExchangeObserver) => {
        if (options.throwIn === hook) throw new Error(`meter bug in ${hook}`)
      }
      return {
        requestChunk(c: Buffer) {
          maybeThrow('requestChunk')
          rec.requestBytes += c.length
        },
        requestEnd() {
          maybeThrow('requestEnd')
          rec.requestEnded = true
        },
        responseHead(status: number) {
          maybeThrow('responseHead')
          rec.status = status
        },
        responseChunk(c: Buffer) {
          maybeThrow('responseChunk')
          rec.responseBytes += c.length
        },
        end(outcome: ExchangeOutcome) {
          rec.outcome = outcome
          notify()
          maybeThrow('end')
        },
      }
    },
    setServedModels() {},
    async close() {},
  }
  return meter
}

/** Resolves when cond() holds, polling every 5 ms; rejects after timeoutMs. */
export async function waitFor(
  cond: () => boolean,
  timeoutMs = 2000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}
