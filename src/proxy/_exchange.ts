import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import type { ErrorType, ExchangeObserver, Meter } from '../meter/types.js'
import { headerValue, type Logger, tlsFailureHint } from '../shared/index.js'
import { forwardableHeaders } from './_headers.js'
import { sendJsonError } from './_json-error.js'
import { observeSafely } from './_safe-observer.js'

/** Everything one exchange needs, built once per proxy (no per-request setup beyond the exchange). */
export interface ExchangeContext {
  /** Pooled keep-alive connections to the engine (see _agent.ts). */
  pool: Dispatcher
  /** A new connection for the one retry of a request that failed on a reused one. */
  fresh: Dispatcher
  /** The failure (before any response byte) came from a reused connection (see _agent.ts). */
  failedOnReuse(err: Error): boolean
  /** Upstream path prefix without a trailing slash ('' for none). */
  basePath: string
  /** Host header sent upstream. */
  authority: string
  /** The upstream as it may be shown (credentials redacted). */
  upstreamLabel: string
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
  'UND_ERR_CONNECT_TIMEOUT',
])

// Failures of a reused connection that a fresh one may not have (the engine closed it idle):
// a reset, a write after its close, or its close itself (undici's SocketError).
const RETRYABLE = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'])
// What undici refuses to send (a request line or header it cannot write as HTTP/1.1).
const NOT_FORWARDABLE = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED'])
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
  new Forward(ctx, req, res)
}

/** A request body streamed to undici as it arrives from the client, with backpressure both ways:
 * the client's stream pauses while this one is full, and resumes when undici reads on. */
class BodyFeed extends Readable {
  constructor(private readonly source: IncomingMessage) {
    super()
  }
  override _read(): void {
    this.source.resume()
  }
}

type Method = Dispatcher.DispatchOptions['method']

/** One exchange: the client's request and response, and undici's handler for the engine's side
 * (one object, not a closure per event: this runs on every request). */
class Forward implements Dispatcher.DispatchHandlers {
  private readonly startedAtMs: number
  private done = false
  private status = 0
  private overheadMs = 0
  private headAtMs = 0
  private timer: NodeJS.Timeout | undefined
  /** The declared body length; -1 for a chunked body, 0 for none. */
  private readonly expected: number
  private readonly headers: string[] = []
  private dispatched = false
  /** The whole body when it came in one chunk of its declared length (sent as it is). */
  private whole: Buffer | undefined
  /** Otherwise the body as undici reads it. */
  private feed: BodyFeed | undefined
  /** The body's chunks so far while the request may still be retried (at most RETRY_BODY_BYTES). */
  private kept: Buffer[] | undefined
  private keeping = true
  private bodyBytes = 0
  private ended = false
  private retried = false
  /** A byte of this attempt's response arrived (undici's parser began a message). */
  private started = false
  /** The engine's response head arrived and was forwarded. */
  private responded = false
  private completed = false
  private first = true
  private abort: ((err?: Error) => void) | undefined
  private resumeUpstream: (() => void) | undefined
  private responseHeaders: string[] = []
  // Forwarding goes first everywhere: the meter is told after the bytes were handed on. Even its
  // observer is made only once the first body chunk went upstream (or the request ended, or the
  // exchange did): at concurrency 1 every µs spent before that write is a µs of added latency.
  private obs: ExchangeObserver | undefined
  private observed = false

  constructor(
    private readonly ctx: ExchangeContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    this.startedAtMs = ctx.now()
    // Write errors after a disconnect surface through 'close'; never as an unhandled 'error'.
    res.on('error', ignore)
    res.on('close', () => this.onClientClose())

    // From the raw list: `req.headers` would build an object of every header on each request.
    const declared = headerValue(req.rawHeaders, 'content-length')
    if (declared !== undefined && Number(declared) > ctx.maxBodyBytes) {
      this.expected = 0
      this.observe()
      this.status = 413
      sendJsonError(
        res,
        413,
        'request_too_large',
        `request body of ${declared} bytes is over the proxy's limit of ${ctx.maxBodyBytes} bytes (--max-body-bytes)`,
        true,
      )
      return
    }
    this.headers = forwardableHeaders(req.rawHeaders, ctx.authority)
    // A client's chunked body stays chunked: undici frames a stream of unknown length so.
    this.expected =
      declared !== undefined
        ? Number(declared)
        : headerValue(req.rawHeaders, 'transfer-encoding') !== undefined
          ? -1
          : 0
    // Armed before dispatching: undici may fail a request it refuses at once, and finish() clears it.
    this.timer = setTimeout(() => this.onTimeout(), ctx.upstreamTimeoutMs)
    this.timer.unref?.()
    if (this.expected === 0) {
      this.dispatched = true
      this.send(ctx.pool, null)
    }
    req.on('data', (chunk: Buffer) => this.onRequestData(chunk))
    req.on('end', () => this.onRequestEnd())
    this.overheadMs = ctx.now() - this.startedAtMs
  }

  private send(d: Dispatcher, body: Buffer | Readable | null, reset = false): void {
    d.dispatch(
      {
        method: this.req.method as Method,
        path: this.ctx.basePath + (this.req.url ?? '/'),
        headers: this.headers,
        body,
        reset,
      },
      this,
    )
  }

  private observe(): ExchangeObserver | undefined {
    if (this.observed) return this.obs
    this.observed = true
    const { req } = this
    this.obs = observeSafely(
      this.ctx.meter,
      {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.rawHeaders,
        startedAtMs: this.startedAtMs,
      },
      this.ctx.logger,
    )
    return this.obs
  }

  // Request body: streamed as it arrives, with backpressure, size-limited for chunked bodies.
  private onRequestData(chunk: Buffer): void {
    if (this.done) return // already answered: keep reading, discard
    const { ctx } = this
    this.bodyBytes += chunk.length
    if (this.bodyBytes > ctx.maxBodyBytes) {
      this.req.pause()
      this.status = 413
      sendJsonError(
        this.res,
        413,
        'request_too_large',
        `request body grew past the proxy's limit of ${ctx.maxBodyBytes} bytes (--max-body-bytes)`,
        true,
      )
      this.finish('413')
      return
    }
    if (!this.dispatched) {
      this.dispatched = true
      if (this.bodyBytes === this.expected) {
        // The usual small request: its whole body in one chunk, sent with the head in one write.
        this.whole = chunk
        this.send(ctx.pool, chunk)
      } else {
        this.feed = new BodyFeed(this.req)
        this.keep(chunk)
        this.feed.push(chunk)
        this.send(ctx.pool, this.feed)
      }
    } else if (this.feed) {
      this.keep(chunk)
      if (!this.feed.push(chunk)) this.req.pause()
    }
    this.observe()?.requestChunk(chunk)
  }

  private keep(chunk: Buffer): void {
    if (!this.keeping) return
    if (this.bodyBytes > RETRY_BODY_BYTES) {
      this.keeping = false
      this.kept = undefined
    } else if (this.kept) this.kept.push(chunk)
    else this.kept = [chunk]
  }

  private onRequestEnd(): void {
    if (this.done) return
    this.ended = true
    if (!this.dispatched) {
      // A declared or chunked body that turned out empty.
      this.dispatched = true
      this.send(this.ctx.pool, null)
    } else this.feed?.push(null)
    this.observe()?.requestEnd()
  }

  private onTimeout(): void {
    if (this.responded || this.done) return
    this.status = 504
    sendJsonError(
      this.res,
      504,
      'upstream_timeout',
      `upstream ${this.ctx.upstreamLabel} sent no response headers within ${this.ctx.upstreamTimeoutMs} ms (--upstream-timeout)`,
    )
    this.finish('upstream_timeout')
  }

  private onClientClose(): void {
    if (this.done) return
    const { status } = this
    if (this.res.writableFinished) this.finish(status >= 400 ? (`${status}` as ErrorType) : '')
    // The client went away: the upstream request is aborted at once so the engine frees the slot.
    else this.finish('client_abort')
  }

  private finish(errorType: ErrorType): void {
    if (this.done) return
    this.done = true
    if (this.timer) clearTimeout(this.timer)
    // Not answered in full: the upstream request is aborted (a no-op once undici failed it). An
    // engine that answered before reading the whole body gets its connection closed by undici.
    if (!this.completed) this.abort?.()
    if (this.feed && !this.feed.destroyed) this.feed.destroy()
    this.kept = undefined
    this.whole = undefined
    this.observe()?.end({ errorType, atMs: this.ctx.now() })
    this.ctx.onDone()
  }

  // undici's handler (https://undici.nodejs.org/#/docs/api/Dispatcher?id=dispatcherdispatchoptions-handler).

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort
    if (this.done) abort()
  }

  onResponseStarted(): void {
    this.started = true
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    // 1xx informational answers are not forwarded (as Node's own client does not).
    if (status < 200) return true
    if (this.done) return false
    const { ctx, res } = this
    this.responded = true
    this.kept = undefined
    this.whole = undefined
    clearTimeout(this.timer)
    this.headAtMs = ctx.now()
    this.status = status
    this.resumeUpstream = resume
    // Latin-1, as Node's own parser hands header bytes to JavaScript: every byte kept as it was.
    const headers: string[] = new Array(raw.length)
    for (let i = 0; i < raw.length; i++) headers[i] = (raw[i] as Buffer).toString('latin1')
    this.responseHeaders = headers
    try {
      res.writeHead(status, statusText, forwardableHeaders(headers))
    } catch (err) {
      ctx.logger.warn('upstream response headers cannot be forwarded', { err })
      res.destroy()
      this.finish('upstream_reset')
      return false
    }
    res.on('drain', () => this.resumeUpstream?.())
    return true
  }

  /** The meter hears of the head after the first body chunk was written (or the body's end). */
  private firstWritten(): void {
    this.first = false
    const { ctx } = this
    ctx.observeOverheadSeconds((this.overheadMs + ctx.now() - this.headAtMs) / 1000)
    this.observe()?.responseHead(this.status, this.responseHeaders, this.headAtMs)
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return false
    const atMs = this.ctx.meter ? this.ctx.now() : 0
    const ok = this.res.write(chunk)
    if (this.first) this.firstWritten()
    this.obs?.responseChunk(chunk, atMs)
    return ok
  }

  onComplete(trailers: string[] | Buffer[] | null): void {
    if (this.done) return
    this.completed = true
    if (this.first) this.firstWritten()
    if (trailers && trailers.length > 0) {
      try {
        const flat = trailers.map((t) => (typeof t === 'string' ? t : t.toString('latin1')))
        this.res.addTrailers(pairs(forwardableHeaders(flat)))
      } catch (err) {
        this.ctx.logger.debug('upstream trailers dropped', { err })
      }
    }
    this.res.end()
  }

  onError(err: Error): void {
    if (this.done) return
    const { ctx, res } = this
    if (this.responded) {
      // Upstream reset mid-stream: end the client's response too (never leave it hanging).
      res.destroy()
      this.finish('upstream_reset')
      return
    }
    const code = (err as NodeJS.ErrnoException).code ?? ''
    // The engine closed a kept-alive connection just as this request was sent on it (before any
    // response byte): once, on a new connection, with the body kept so far (nginx's
    // proxy_next_upstream error; https://nodejs.org/api/http.html#requestreusedsocket).
    if (
      !this.retried &&
      !this.started &&
      RETRYABLE.has(code) &&
      (this.bodyBytes === 0 || this.whole !== undefined || this.kept !== undefined) &&
      ctx.failedOnReuse(err)
    ) {
      this.retry(code)
      return
    }
    if (NOT_FORWARDABLE.has(code)) {
      this.status = 400
      sendJsonError(
        res,
        400,
        'request_not_forwardable',
        `the request cannot be forwarded as HTTP/1.1 to ${ctx.upstreamLabel}: ${err.message}`,
      )
      this.finish('400')
      return
    }
    this.status = 502
    // An https:// engine whose certificate or handshake failed: there, but not one to talk to.
    const tls = tlsFailureHint(code)
    if (tls !== undefined) {
      sendJsonError(res, 502, 'upstream_unreachable', `upstream ${ctx.upstreamLabel}: ${tls}`)
      this.finish('upstream_unreachable')
      return
    }
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
    this.finish(unreachable ? 'upstream_unreachable' : 'upstream_reset')
  }

  private retry(code: string): void {
    this.retried = true
    this.keeping = false
    this.abort = undefined
    this.ctx.logger.debug('upstream closed a reused connection; retrying on a new one', { code })
    let body: Buffer | Readable | null = null
    if (this.whole) body = this.whole
    else if (this.bodyBytes > 0 || this.feed) {
      const feed = new BodyFeed(this.req)
      for (const chunk of this.kept ?? []) feed.push(chunk)
      this.kept = undefined
      if (this.ended) feed.push(null)
      else this.req.resume()
      this.feed?.destroy()
      this.feed = feed
      body = feed
    }
    this.send(this.ctx.fresh, body, true)
  }
}

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = []
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string])
  return out
}

function ignore(): void {}
