// The upstream connection pool. Idle sockets are kept as long as the engine allows: 1 s less than
// its `Keep-Alive: timeout=N` hint, otherwise until the idle limit (default 60 s, like nginx's
// upstream `keepalive_timeout`) or until the engine closes them (uvicorn and cpp-httplib after
// 5 s, without a hint). A request sent on a socket at the moment the engine closes it fails before
// any response byte; _exchange.ts retries that once on a fresh connection (`failedOnReuse` says
// when that is safe), as the Node docs advise for `request.reusedSocket`:
// https://nodejs.org/api/http.html#requestreusedsocket
// Node's agent `timeout` option would close idle sockets with a timer on every socket, re-armed
// on each read and write of each request (~15-25 µs of CPU per request measured); here one coarse
// sweep over the free sockets does it instead, closing each a little early rather than late.
import type { ClientRequest } from 'node:http'
import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { sameLowerAscii } from '../shared/index.js'

export interface UpstreamPool {
  agent: HttpAgent
  /** The engine's `Keep-Alive: timeout=N` hint for this response's socket: kept at most N-1 s. */
  noteKeepAlive(socket: Duplex | null, rawHeaders: readonly string[]): void
  /** True when `request` went out on a pooled socket that had served an earlier request, and
   * that socket has read no byte of this request's response: the engine closed it before it saw
   * the request, or at least before it answered, so sending it again on a new connection is what
   * a client would have seen as one attempt. */
  failedOnReuse(request: ClientRequest): boolean
  /** For that one retry: a new connection, closed after the exchange (never a pooled one). */
  freshAgent: HttpAgent
  destroy(): void
}

const KEEP_ALIVE_MSECS = 1000

// The pool's notes live on the sockets and requests themselves, under symbols: a WeakMap entry per
// request (set on every reuse) was the pool's largest cost under load (~1.2 µs per request,
// profiled), and the ephemeron tables it grows are work for every GC.
const IDLE_SINCE = Symbol('inferwatch.idleSince')
const LIMIT_MS = Symbol('inferwatch.keepAliveLimitMs')
const REUSED_SOCKET = Symbol('inferwatch.reusedSocket')
const READ_AT_REUSE = Symbol('inferwatch.bytesReadAtReuse')
interface PooledSocket extends Socket {
  [IDLE_SINCE]?: number | undefined
  [LIMIT_MS]?: number
}
interface PooledRequest extends ClientRequest {
  [REUSED_SOCKET]?: PooledSocket
  [READ_AT_REUSE]?: number
}

export function createUpstreamPool(options: {
  https: boolean
  /** Free sockets idle this long are closed; <= 0: never. */
  idleMs: number
  now: () => number
}): UpstreamPool {
  const { idleMs, now } = options
  const Base: typeof HttpAgent = options.https ? HttpsAgent : HttpAgent

  class Pool extends Base {
    override keepSocketAlive(socket: PooledSocket): boolean {
      // A server hint of 1 s or less: the socket cannot be reused safely (as Node's default).
      if ((socket[LIMIT_MS] ?? 1) <= 0) return false
      socket.setKeepAlive(true, KEEP_ALIVE_MSECS)
      socket.unref()
      socket[IDLE_SINCE] = now()
      return true
    }

    override reuseSocket(socket: PooledSocket, request: PooledRequest): void {
      socket[IDLE_SINCE] = undefined
      // bytesRead of the socket when the request was given it from the free list.
      request[REUSED_SOCKET] = socket
      request[READ_AT_REUSE] = socket.bytesRead
      super.reuseSocket(socket, request)
    }
  }

  const agent = new Pool({
    keepAlive: true,
    keepAliveMsecs: KEEP_ALIVE_MSECS,
    maxSockets: Number.POSITIVE_INFINITY,
    maxFreeSockets: 256,
    scheduling: 'lifo',
    noDelay: true,
  })
  // Sweeps every idleMs/8 (at most 250 ms, for engines' shorter hints); a socket is closed once
  // idle for (limit - period), so never later than its limit.
  const period = Math.max(10, Math.min(250, Math.floor(idleMs / 8)))
  const sweep =
    idleMs > 0
      ? setInterval(() => {
          const t = now()
          for (const list of Object.values(agent.freeSockets)) {
            for (const s of (list ?? []) as PooledSocket[]) {
              const since = s[IDLE_SINCE]
              if (since !== undefined && t - since >= (s[LIMIT_MS] ?? idleMs) - period) s.destroy()
            }
          }
        }, period)
      : undefined
  sweep?.unref()

  const freshAgent = new Base({ keepAlive: false, noDelay: true })

  return {
    agent,
    freshAgent,
    failedOnReuse(request: PooledRequest) {
      const socket = request[REUSED_SOCKET]
      return (
        socket !== undefined && request.reusedSocket && socket.bytesRead === request[READ_AT_REUSE]
      )
    },
    noteKeepAlive(s, rawHeaders) {
      if (!s) return
      const socket = s as PooledSocket
      for (let i = 0; i < rawHeaders.length; i += 2) {
        const name = rawHeaders[i] as string
        if (!sameLowerAscii(name, 'keep-alive')) continue
        const hint = /^\s*timeout=(\d+)/i.exec(rawHeaders[i + 1] as string)?.[1]
        if (hint === undefined) return
        const ms = Number(hint) * 1000 - 1000
        if (idleMs <= 0 || ms < idleMs) socket[LIMIT_MS] = Math.max(0, ms)
        return
      }
    },
    destroy() {
      if (sweep) clearInterval(sweep)
      agent.destroy()
      freshAgent.destroy()
    },
  }
}
