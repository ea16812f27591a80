import type {
  Agent,
  ClientRequest,
  request as httpRequest,
  IncomingMessage,
  ServerResponse,
} from 'node:http'
import type { ErrorType, ExchangeObserver, Meter } from '../meter/types.js'
import type { Logger } from '../shared/index.js'
import { forwardableHeaders } from './_headers.js'
import { sendJsonError } from './_json-error.js'
import { observeSafely } from './_safe-observer.js'

/** Everything one exchange needs, built once per proxy (no per-request setup beyond the exchange). */
export interface ExchangeContext {
  protocol: 'http:' | 'https:'
  hostname: string
  port: number
  /** Upstream path prefix without a trailing slash ('' for none). */
  basePath: string
  /** Host header sent upstream. */
  authority: string
  /** The upstream as it may be shown (credentials redacted). */
  upstreamLabel: string
  request: typeof httpRequest
  agent: Agent
  /** Reads the engine's Keep-Alive hint for the pooled socket (see _agent.ts). */
  noteKeepAlive(socket: IncomingMessage['socket'] | null, rawHeaders: readonly string[]): void
  meter: Meter | undefined
  logger: Logger
  now: () => number
  upstreamTimeoutMs: number
  maxBodyBytes: number
  observeOverheadSeconds: (seconds: number) => void
  /** Called once per exchange when it is over (in-flight accounting, drain). */
  onDone: () => void
}

// Errors on connect that mean "nobody is there" (502 upstream_unreachable).
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'ECONNABORTED',
])

/**
 * Forwards one request. Overhead (inferwatch_proxy_overhead_seconds) is the proxy's own time with
 * the upstream wait excluded: arrival -> upstream request dispatched, plus upstream response head
 * received -> first body chunk (or the end of an empty body) handed to the client socket.
 */
export function forwardExchange(
  ctx: ExchangeContext,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const { now } = ctx
  const startedAtMs = now()
  let done = false
  let status = 0
  let overheadMs = 0
  let upRes: IncomingMessage | undefined
  let upReq: ClientRequest | undefined
  let timer: NodeJS.Timeout | undefined
  // Forwarding goes first everywhere: the meter is told after the bytes were handed on.
  let obs: ExchangeObserver | undefined
  const observe = () =>
    observeSafely(
      ctx.meter,
      { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, startedAtMs },
      ctx.logger,
    )

  const finish = (errorType: ErrorType) => {
    if (done) return
    done = true
    if (timer) clearTimeout(timer)
    // An upstream that answered before reading the whole request body would otherwise hold its
    // pooled socket forever (the agent frees a socket only once the request has ended).
    if (upReq && !upReq.writableEnded) upReq.destroy()
    obs?.end({ errorType, atMs: now() })
    ctx.onDone()
  }

  // Write errors after a disconnect surface through 'close'; never as an unhandled 'error'.
  res.on('error', ignore)
  res.on('close', () => {
    if (done) return
    if (res.writableFinished) {
      finish(status >= 400 ? (`${status}` as ErrorType) : '')
    } else {
      // The client went away: abort the upstream at once so the engine frees the slot.
      upReq?.destroy()
      finish('client_abort')
    }
  })

  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > ctx.maxBodyBytes) {
    obs = observe()
    status = 413
    sendJsonError(
      res,
      413,
      'request_too_large',
      `request body of ${declared} bytes is over the proxy's limit of ${ctx.maxBodyBytes} bytes (--max-body-bytes)`,
      true,
    )
    return
  }

  const headers = forwardableHeaders(req.rawHeaders, ctx.authority)
  // A client's chunked body stays chunked: Node frames it again on the upstream connection.
  if (declared === undefined && req.headers['transfer-encoding'] !== undefined) {
    headers.push('Transfer-Encoding', 'chunked')
  }
  const up = ctx.request({
    protocol: ctx.protocol,
    hostname: ctx.hostname,
    port: ctx.port,
    method: req.method,
    path: ctx.basePath + (req.url ?? '/'),
    headers,
    agent: ctx.agent,
  })
  upReq = up
  obs = observe()
  timer = setTimeout(() => {
    if (upRes || done) return
    up.destroy()
    status = 504
    sendJsonError(
      res,
      504,
      'upstream_timeout',
      `upstream ${ctx.upstreamLabel} sent no response headers within ${ctx.upstreamTimeoutMs} ms (--upstream-timeout)`,
    )
    finish('upstream_timeout')
  }, ctx.upstreamTimeoutMs)
  timer.unref?.()

  up.on('error', (err: NodeJS.ErrnoException) => {
    if (done) return
    if (upRes) return // handled by upRes 'close'
    const code = err.code ?? ''
    status = 502
    const unreachable = UNREACHABLE.has(code)
    sendJsonError(
      res,
      502,
      'upstream_unreachable',
      unreachable
        ? `upstream ${ctx.upstreamLabel} is unreachable (${code || err.message}); is the engine running?`
        : `upstream ${ctx.upstreamLabel} closed the connection before responding (${code || err.message})`,
    )
    finish(unreachable ? 'upstream_unreachable' : 'upstream_reset')
  })

  // Request body: streamed as it arrives, with backpressure, size-limited for chunked bodies.
  let bodyBytes = 0
  req.on('data', (chunk: Buffer) => {
    if (done) return // already answered: keep reading, discard
    bodyBytes += chunk.length
    if (bodyBytes > ctx.maxBodyBytes) {
      up.destroy()
      req.pause()
      status = 413
      sendJsonError(
        res,
        413,
        'request_too_large',
        `request body grew past the proxy's limit of ${ctx.maxBodyBytes} bytes (--max-body-bytes)`,
        true,
      )
      finish('413')
      return
    }
    if (!up.write(chunk)) req.pause()
    obs?.requestChunk(chunk)
  })
  up.on('drain', () => req.resume())
  req.on('end', () => {
    if (done) return
    up.end()
    obs?.requestEnd()
  })
  overheadMs = now() - startedAtMs

  up.on('response', (r: IncomingMessage) => {
    if (done) {
      r.destroy()
      return
    }
    upRes = r
    clearTimeout(timer)
    const headAtMs = now()
    status = r.statusCode ?? 502
    try {
      res.writeHead(status, r.statusMessage, forwardableHeaders(r.rawHeaders))
    } catch (err) {
      ctx.logger.warn('upstream response headers cannot be forwarded', { err })
      r.destroy()
      res.destroy()
      finish('upstream_reset')
      return
    }
    ctx.noteKeepAlive(r.socket, r.rawHeaders)
    obs?.responseHead(status, r.headers, headAtMs)
    let first = true
    const firstWritten = () => {
      first = false
      ctx.observeOverheadSeconds((overheadMs + now() - headAtMs) / 1000)
    }
    r.on('data', (chunk: Buffer) => {
      const atMs = obs ? now() : 0
      const ok = res.write(chunk)
      if (first) firstWritten()
      if (!ok) r.pause()
      obs?.responseChunk(chunk, atMs)
    })
    res.on('drain', () => r.resume())
    r.on('end', () => {
      if (first) firstWritten()
      if (r.rawTrailers.length > 0) {
        try {
          res.addTrailers(pairs(forwardableHeaders(r.rawTrailers)))
        } catch (err) {
          ctx.logger.debug('upstream trailers dropped', { err })
        }
      }
      res.end()
    })
    r.on('close', () => {
      if (done || r.complete) return
      // Upstream reset mid-stream: end the client's response too (never leave it hanging).
      res.destroy()
      finish('upstream_reset')
    })
  })
}

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = []
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string])
  return out
}

function ignore(): void {}
