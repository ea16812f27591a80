import { createServer } from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Registry } from 'prom-client'
import type { HttpUrl } from '../config/index.js'
import type { Meter } from '../meter/types.js'
import { createLogger, FastHistogram, type Logger, listenHttp, redactUrl } from '../shared/index.js'
import { createUpstreamPool } from './_agent.js'
import { type ExchangeContext, forwardExchange } from './_exchange.js'

export interface ProxyOptions {
  /** The engine's base URL, parsed by src/config; a path prefix is kept (`http://h:8000/x` +
   * `/v1/models`). */
  upstream: HttpUrl
  /** Default 127.0.0.1 (the CLI passes 0.0.0.0:8080, README: `inferwatch proxy`). */
  host?: string
  /** Default 0: a free port. */
  port?: number
  meter?: Meter
  /** Where `inferwatch_proxy_overhead_seconds` is registered; none: not measured. */
  registry?: Registry
  /** No response headers within this -> 504. Default 600 000 (10 min). */
  upstreamTimeoutMs?: number
  /** Larger request bodies -> 413. Default 16 MiB. */
  maxBodyBytes?: number
  /** Pooled upstream connections idle this long are closed by us. Default 60 000 (nginx's
   * upstream `keepalive_timeout`); an engine announcing a shorter `Keep-Alive: timeout=N` gets
   * N-1 s, and one that closes idle connections itself (uvicorn and cpp-httplib after 5 s) does so
   * first. A request sent on a connection the engine is closing at that moment is retried once on a
   * new connection (bodies up to 1 MiB; see _exchange.ts), so that race is not a 502. */
  upstreamIdleTimeoutMs?: number
  /** Idle client keep-alive connections are closed after this. Default 75 000 (nginx's default),
   * longer than the usual client pool idle time, for the same race on the client side. */
  clientKeepAliveMs?: number
  logger?: Logger
  /** Monotonic clock in ms (performance.now by default). */
  now?: () => number
}

export interface ProxyHandle {
  /** A URL clients can connect to (0.0.0.0 shown as 127.0.0.1). */
  url: string
  host: string
  port: number
  /** Exchanges not yet over. */
  inFlight(): number
  /** Stops accepting, lets in-flight exchanges finish for up to drainTimeoutMs (default 0),
   * then destroys what is left. */
  close(options?: { drainTimeoutMs?: number }): Promise<void>
}

export const OVERHEAD_BUCKETS_SECONDS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
]

/** The metering reverse proxy: every method and path forwarded to `upstream`, bytes unchanged. */
export async function startProxy(options: ProxyOptions): Promise<ProxyHandle> {
  const target = options.upstream
  const logger = options.logger ?? createLogger()
  const now = options.now ?? (() => performance.now())
  // Only free sockets are closed when idle: long generations are never cut.
  const pool = createUpstreamPool({
    origin: `${target.protocol}//${target.authority}`,
    idleMs: options.upstreamIdleTimeoutMs ?? 60_000,
  })
  // One series, no labels: observing it is a bucket search and two additions (no label hashing).
  const histogram = options.registry
    ? new FastHistogram(
        'inferwatch_proxy_overhead_seconds',
        'Time spent in the proxy per request, upstream wait excluded (arrival to upstream dispatch, plus response head to first chunk written).',
        [],
        OVERHEAD_BUCKETS_SECONDS,
        options.registry,
      )
    : undefined
  histogram?.init({})

  let inFlight = 0
  let drained: (() => void) | undefined
  const ctx: ExchangeContext = {
    pool: pool.pool,
    fresh: pool.fresh,
    failedOnReuse: pool.failedOnReuse,
    basePath: target.basePath,
    authority: target.authority,
    upstreamLabel: redactUrl(`${target.protocol}//${target.authority}`),
    meter: options.meter,
    logger,
    now,
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? 600_000,
    maxBodyBytes: options.maxBodyBytes ?? 16 * 1024 * 1024,
    observeOverheadSeconds: histogram ? (s) => histogram.observe({}, s) : () => {},
    onDone: () => {
      inFlight -= 1
      if (inFlight === 0) drained?.()
    },
  }

  // Requests in progress per client connection, so a closing proxy can end idle connections
  // gracefully (socket.end() flushes what is queued, then FIN) instead of destroying them:
  // destroy() would drop the last bytes of a response that just finished.
  const active = new Map<Socket, number>()
  let closingStarted = false
  const server = createServer((req, res) => {
    inFlight += 1
    const socket = req.socket
    active.set(socket, (active.get(socket) ?? 0) + 1)
    res.once('close', () => {
      const left = (active.get(socket) ?? 1) - 1
      active.set(socket, left)
      if (closingStarted && left === 0) socket.end()
    })
    forwardExchange(ctx, req, res)
  })
  server.on('connection', (socket: Socket) => {
    active.set(socket, 0)
    socket.once('close', () => active.delete(socket))
  })
  server.keepAliveTimeout = options.clientKeepAliveMs ?? 75_000
  const listening = await listenHttp(server, {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    what: 'proxy',
    code: 'PROXY_LISTEN_FAILED',
    flag: '--listen',
  })
  let closing: Promise<void> | undefined
  const waitDrained = (timeoutMs: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      drained = () => {
        clearTimeout(timer)
        resolve()
      }
    })

  return {
    ...listening,
    inFlight: () => inFlight,
    close(closeOptions = {}) {
      closing ??= (async () => {
        closingStarted = true
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
        for (const [socket, requests] of active) if (requests === 0) socket.end()
        const drainTimeoutMs = closeOptions.drainTimeoutMs ?? 0
        if (inFlight > 0 && drainTimeoutMs > 0) await waitDrained(drainTimeoutMs)
        if (inFlight > 0) logger.warn('closing with exchanges still in flight', { inFlight })
        // What is left after the drain (or a short flush of ended sockets) is destroyed; that
        // aborts the upstream requests still running (client_abort path).
        const force = setTimeout(() => server.closeAllConnections(), inFlight > 0 ? 0 : 1000)
        await stopped
        clearTimeout(force)
        // Socket 'close' events settle the destroyed exchanges a tick later; wait for them (bounded).
        if (inFlight > 0) await waitDrained(1000)
        await pool.destroy()
      })()
      return closing
    },
  }
}
