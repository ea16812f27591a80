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
import type { Duplex } from 'node:stream'

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

export function createUpstreamPool(options: {
  https: boolean
  /** Free sockets idle this long are closed; <= 0: never. */
  idleMs: number
  now: () => number
}): UpstreamPool {
  const { idleMs, now } = options
  const idleSince = new WeakMap<Duplex, number>()
  // bytesRead of the socket when a request was given it from the free list.
  const readAtReuse = new WeakMap<ClientRequest, { socket: Duplex; read: number }>()
  const limitOf = new WeakMap<Duplex, number>()
  const Base: typeof HttpAgent = options.https ? HttpsAgent : HttpAgent

  class Pool extends Base {
    override keepSocketAlive(socket: Duplex): boolean {
      // A server hint of 1 s or less: the socket cannot be reused safely (as Node's default).
      if ((limitOf.get(socket) ?? 1) <= 0) return false
      ;(socket as Duplex & { setKeepAlive(on: boolean, ms: number): void }).setKeepAlive(
        true,
        KEEP_ALIVE_MSECS,
      )
      ;(socket as Duplex & { unref(): void }).unref()
      idleSince.set(socket, now())
      return true
    }

    override reuseSocket(socket: Duplex, request: ClientRequest): void {
      idleSince.delete(socket)
      readAtReuse.set(request, { socket, read: bytesRead(socket) })
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
            for (const s of list ?? []) {
              const since = idleSince.get(s)
              if (since !== undefined && t - since >= (limitOf.get(s) ?? idleMs) - period)
                s.destroy()
            }
          }
        }, period)
      : undefined
  sweep?.unref()

  const freshAgent = new Base({ keepAlive: false, noDelay: true })

  return {
    agent,
    freshAgent,
    failedOnReuse(request) {
      const at = readAtReuse.get(request)
      return at !== undefined && request.reusedSocket && bytesRead(at.socket) === at.read
    },
    noteKeepAlive(socket, rawHeaders) {
      if (!socket) return
      for (let i = 0; i < rawHeaders.length; i += 2) {
        const name = rawHeaders[i] as string
        if (name.length !== 10 || name.toLowerCase() !== 'keep-alive') continue
        const hint = /^\s*timeout=(\d+)/i.exec(rawHeaders[i + 1] as string)?.[1]
        if (hint === undefined) return
        const ms = Number(hint) * 1000 - 1000
        if (idleMs <= 0 || ms < idleMs) limitOf.set(socket, Math.max(0, ms))
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

const bytesRead = (socket: Duplex): number => (socket as Duplex & { bytesRead: number }).bytesRead
