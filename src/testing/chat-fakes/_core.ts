import { createServer, type IncomingHttpHeaders } from 'node:http'
import { closeServer, listenLocal } from '../net.js'
import { readSharedFixture } from '../shared-fixtures.js'

// The shared shape of every fake chat API: a real HTTP server on 127.0.0.1 port 0 that records
// each request, can be told to fail transiently, and answers as the vendor does.

export interface FakeRequest {
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  body: string
  /** JSON.parse(body) when it parses. */
  json: unknown
  atMs: number
}

export interface FakeReply {
  status: number
  body: string
  headers?: Record<string, string>
  /** The vendor accepted the message (recorded in `accepted`). */
  accept?: boolean
}

/** What a transient failure looks like: the vendor's "busy" reply, an HTTP 500 page, a reset socket. */
export type TransientKind = 'busy' | 'http500' | 'reset'

export interface FakeChat {
  /** The webhook URL to put in the relay config (with the token / key). */
  url: string
  /** Messages the fake accepted (it answered success). */
  accepted: FakeRequest[]
  /** Every request, accepted or not, with the reply given. */
  requests: { request: FakeRequest; reply: FakeReply | 'reset' }[]
  /** The next `count` requests fail transiently. */
  failNext(count: number, kind?: TransientKind): void
  close(): Promise<void>
}

export interface FakeSpec {
  /** The URL path and query of the webhook, e.g. /robot/send?access_token=T. */
  hookPath: string
  /** Vendor checks; `busy` is the vendor's transient failure reply. */
  handle(req: FakeRequest): FakeReply
  busy: FakeReply
}

export async function startFake(spec: FakeSpec, now: () => number): Promise<FakeChat> {
  const accepted: FakeRequest[] = []
  const requests: FakeChat['requests'] = []
  let failures: { count: number; kind: TransientKind } = { count: 0, kind: 'busy' }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://fake')
      const body = Buffer.concat(chunks).toString('utf8')
      let json: unknown
      try {
        json = JSON.parse(body)
      } catch {
        json = undefined
      }
      const request: FakeRequest = {
        path: u.pathname,
        query: u.searchParams,
        headers: req.headers,
        body,
        json,
        atMs: now(),
      }
      if (failures.count > 0) {
        failures = { ...failures, count: failures.count - 1 }
        if (failures.kind === 'reset') {
          requests.push({ request, reply: 'reset' })
          req.socket.destroy()
          return
        }
        const reply =
          failures.kind === 'busy'
            ? spec.busy
            : { status: 500, body: '<html><body>502 Bad Gateway</body></html>' }
        requests.push({ request, reply })
        write(res, reply)
        return
      }
      const reply = spec.handle(request)
      requests.push({ request, reply })
      if (reply.accept) accepted.push(request)
      write(res, reply)
    })
  })
  const base = await listenLocal(server)
  return {
    url: `${base}${spec.hookPath}`,
    accepted,
    requests,
    failNext(count, kind = 'busy') {
      failures = { count, kind }
    },
    close: () => closeServer(server),
  }
  function write(res: import('node:http').ServerResponse, reply: FakeReply) {
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers })
    res.end(reply.body)
  }
}

/** A real vendor reply from the optional shared fixtures (chat/, see shared-fixtures.ts; comments stripped), or the inline stand-in. */
export function vendorReply(fixture: string, fallback: object): string {
  const text = readSharedFixture(`chat/${fixture}`)
  if (text === undefined) return JSON.stringify(fallback)
  const json = fixture.endsWith('.jsonc') ? text.replace(/\/\/[^\n"]*$/gm, '') : text
  return JSON.stringify(JSON.parse(json))
}

/** Sliding-window limiter as the vendors document them. */
export function createWindow(limits: readonly { max: number; windowMs: number }[]) {
  const sent: number[] = []
  return {
    /** Records the send and says whether it was within every limit. */
    allow(nowMs: number): boolean {
      const ok = limits.every((l) => sent.filter((t) => t > nowMs - l.windowMs).length < l.max)
      if (ok) sent.push(nowMs)
      return ok
    },
  }
}

/** Reads a nested value from parsed JSON without trusting its shape. */
export function dig(value: unknown, ...path: (string | number)[]): unknown {
  let v = value
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined
    v = (v as Record<string | number, unknown>)[k]
  }
  return v
}
