import type {
  Agent,
  ClientRequest,
  request as httpRequest,
  IncomingMessage,
  ServerResponse,
} from 'node:http'
import type { ErrorType, ExchangeObserver, Meter } from '../meter/types.js'
import { headerValue, type Logger } from '../shared/index.js'
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
  /** The request failed on a reused pooled socket before any response byte (see _agent.ts). */
  failedOnReuse(request: ClientRequest): boolean
  /** One new connection for the retry of such a request. */
  freshAgent: Agent
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

// Failures of a reused connection that a fresh one may not have (the engine closed it idle).
const RETRYABLE = new Set(['ECONNRESET', 'EPIPE'])
/** Request bodies up to this are kept for that retry; larger ones are not retried. */
export const RETRY_BODY_BYTES = 1024 * 1024

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
  // Forwarding goes first everywhere: the meter is told after the bytes were handed on. Even its
  // observer is made only once the first body chunk went upstream (or the request ended, or the
  // exchange did): at concurrency 1 every µs spent before that write is a µs of added latency.
  let obs: ExchangeObserver | undefined
  let observed = false
  const observe = (): ExchangeObserver | undefined => {
    if (observed) return obs
    observed = true
    obs = observeSafely(
      ctx.meter,
      { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.rawHeaders, startedAtMs },
      ctx.logger,
    )
    return obs
  }

  const finish = (errorType: ErrorType) => {
    if (done) return
    done = true
    if (timer) clearTimeout(timer)
    // An upstream that answered before reading the whole request body would otherwise hold its
    // pooled socket forever (the agent frees a socket only once the request has ended).
    if (upReq && !upReq.writableEnded) upReq.destroy()
    observe()?.end({ errorType, atMs: now() })
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

  // From the raw list: `req.headers` would build an object of every header on each request.
  const declared = headerValue(req.rawHeaders, 'content-length')
  if (declared !== undefined && Number(declared) > ctx.maxBodyBytes) {
    observe()
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
  if (declared === undefined && headerValue(req.rawHeaders, 'transfer-encoding') !== undefined) {
    headers.push('Transfer-Encoding', 'chunked')
  }
  // The body so far, kept only while the request rides a reused pooled socket and is at most
  // RETRY_BODY_BYTES: what a retry on a fresh connection sends again (see onUpstreamError).
  let kept: Buffer[] | undefined
  let ended = false
  const dispatch = (agent: Agent): ClientRequest => {
    const r = ctx.request({
      protocol: ctx.protocol,
      hostname: ctx.hostname,
      port: ctx.port,
      method: req.method,
      path: ctx.basePath + (req.url ?? '/'),
      headers,
      agent,
    })
    r.on('error', onUpstreamError)
    r.on('drain', onUpstreamDrain)
    r.on('response', onResponse)
    return r
  }
  const onUpstreamDrain = () => req.resume()

  let up = dispatch(ctx.agent)
  upReq = up
  if (up.reusedSocket) kept = []
  timer = setTimeout(() => {
    if (upRes || done) return
    upReq?.destroy()
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

  function onUpstreamError(this: ClientRequest, err: NodeJS.ErrnoException): void {
    if (done || this !== upReq) return
    if (upRes) return // handled by upRes 'close'
    const code = err.code ?? ''
    // The engine closed a kept-alive connection just as this request was sent on it (before any
    // response byte): once, on a new connection, with the body kept so far (nginx's
    // proxy_next_upstream error; https://nodejs.org/api/http.html#requestreusedsocket).
    if (kept && RETRYABLE.has(code) && ctx.failedOnReuse(this)) {
      const again = kept
      kept = undefined
      up = dispatch(ctx.freshAgent)
      upReq = up
      ctx.logger.debug('upstream closed a reused connection; retrying on a new one', { code })
      for (const chunk of again) up.write(chunk)
      if (ended) up.end()
      else req.resume()
      return
    }
    status = 502
    const unreachable = UNREACHABLE.has(code)
    // Connected, then closed before any response head: the engine is running (502 like nginx),
    // but the name must say so, as the meter's does.
    sendJsonError(
      res,
      502,
      unreachable ? 'upstream_unreachable' : 'upstream_reset',
      unreachable
        ? `upstream ${ctx.upstreamLabel} is unreachable (${code || err.message}); is the engine running?`
        : `upstream ${ctx.upstreamLabel} closed the connection before responding (${code || err.message})`,
    )
    finish(unreachable ? 'upstream_unreachable' : 'upstream_reset')
  }

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
    if (kept) {
      if (bodyBytes <= RETRY_BODY_BYTES) kept.push(chunk)
      else kept = undefined
    }
    if (!up.write(chunk)) req.pause()
    observe()?.requestChunk(chunk)
  })
  req.on('end', () => {
    if (done) return
    ended = true
    up.end()
    observe()?.requestEnd()
  })
  overheadMs = now() - startedAtMs

  function onResponse(this: ClientRequest, r: IncomingMessage): void {
    if (done || this !== upReq) {
      r.destroy()
      return
    }
    upRes = r
    kept = undefined
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
    // The meter hears of the head after the first body chunk was written (or the body's end).
    let first = true
    const firstWritten = () => {
      first = false
      ctx.observeOverheadSeconds((overheadMs + now() - headAtMs) / 1000)
      observe()?.responseHead(status, r.rawHeaders, headAtMs)
    }
    r.on('data', (chunk: Buffer) => {
      const atMs = ctx.meter ? now() : 0
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
  }
}

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = []
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string])
  return out
}

function ignore(): void {}
