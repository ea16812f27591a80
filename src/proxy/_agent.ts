// The upstream connection pool, on undici (https://undici.nodejs.org, the HTTP/1.1 client the
// Node.js project maintains): its dispatch API costs about half the CPU per request of
// `http.request` with an `http.Agent`, measured under `wrk` (README: Performance).
//
// Idle connections are kept as long as the engine allows: 1 s less than its `Keep-Alive:
// timeout=N` hint, otherwise until the idle limit (default 60 s, like nginx's upstream
// `keepalive_timeout`) or until the engine closes them (uvicorn and cpp-httplib after 5 s, without
// a hint). undici reads the hint itself (`keepAliveTimeoutThreshold` is the second taken off) and
// looks at an idle connection once more before reusing it, so a close that already arrived is
// seen. A request sent on a connection at the moment the engine closes it still fails before any
// response byte; _exchange.ts retries that once on a new connection, and `failedOnReuse` says when
// that is safe.
import type { Socket } from 'node:net'
import { buildConnector, type Dispatcher, Pool } from 'undici'

export interface UpstreamPool {
  /** Pooled keep-alive connections to the engine. */
  pool: Dispatcher
  /** For the one retry: a new connection each time (dispatched with `reset`, so it is closed after
   * its exchange and never reused). */
  fresh: Dispatcher
  /** True when `err` (a request's failure before any byte of its response) came from a connection
   * that had already read earlier responses: the engine closed a kept-alive connection before it
   * answered this request, so sending it again on a new connection is what a client would have seen
   * as one attempt. False for a new connection: its failure is the engine's answer. */
  failedOnReuse(err: Error): boolean
  destroy(): Promise<void>
}

/** A day: the idle limit `idleMs <= 0` ("never") stands for (undici needs a finite timeout). */
const NEVER_MS = 86_400_000
/** Connecting to the engine takes at most this (then 502 upstream_unreachable, ETIMEDOUT-like). */
const CONNECT_TIMEOUT_MS = 10_000

// A socket's bytesRead when it failed: undici's SocketError carries it (`err.socket`), a raw
// ECONNRESET or EPIPE from the socket does not, so the connector notes it on the error itself.
const READ_BEFORE_ERROR = Symbol('inferwatch.bytesReadBeforeError')
interface NotedError extends Error {
  [READ_BEFORE_ERROR]?: number
  socket?: { bytesRead?: number }
}
function noteBytesRead(this: Socket, err: NotedError): void {
  err[READ_BEFORE_ERROR] = this.bytesRead
}

export function createUpstreamPool(options: {
  /** The engine's origin, `http://host:port` (no path). */
  origin: string
  /** Idle connections are closed after this long; <= 0: never (a day). */
  idleMs: number
}): UpstreamPool {
  const idle = options.idleMs > 0 ? options.idleMs : NEVER_MS
  const base = buildConnector({ timeout: CONNECT_TIMEOUT_MS, keepAlive: true })
  const connect: buildConnector.connector = (opts, callback) =>
    base(opts, (err, socket) => {
      // Before undici's own listener (added once this returns): the error is noted when it sees it.
      socket?.prependListener('error', noteBytesRead)
      if (err) callback(err, null)
      else callback(null, socket as Socket)
    })
  const shared = {
    // No limit on connections (the engine's scheduler decides what runs), no pipelining.
    connections: null,
    pipelining: 1,
    // The proxy's own upstream timeout answers 504 when no response head comes; a long generation
    // is never cut between chunks.
    headersTimeout: 0,
    bodyTimeout: 0,
    connect,
  }
  const pool = new Pool(options.origin, {
    ...shared,
    keepAliveTimeout: idle,
    keepAliveMaxTimeout: idle,
    keepAliveTimeoutThreshold: 1000,
  })
  const fresh = new Pool(options.origin, shared)
  return {
    pool,
    fresh,
    failedOnReuse(err: NotedError) {
      const read = err.socket?.bytesRead ?? err[READ_BEFORE_ERROR]
      return read !== undefined && read > 0
    },
    async destroy() {
      await Promise.allSettled([pool.destroy(), fresh.destroy()])
    },
  }
}
