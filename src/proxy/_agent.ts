// The upstream connection pool. Idle pooled sockets must be closed before the engine closes them
// (uvicorn and cpp-httplib: 5 s), or a request sent at that moment fails (a 502). Node's agent
// `timeout` option does that with a timer on every socket, re-armed on each read and write of each
// request (~15-25 µs of CPU per request measured); here one coarse sweep over the free sockets does
// it instead, closing each a little early rather than late.
import type { ClientRequest } from 'node:http'
import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import type { Duplex } from 'node:stream'

export interface UpstreamPool {
  agent: HttpAgent
  /** The engine's `Keep-Alive: timeout=N` hint for this response's socket: kept at most N-1 s. */
  noteKeepAlive(socket: Duplex | null, rawHeaders: readonly string[]): void
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
  // Sweeps every idleMs/8; a socket is closed once idle for (limit - period), so never later
  // than its limit.
  const period = Math.max(10, Math.floor(idleMs / 8))
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

  return {
    agent,
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
    },
  }
}
