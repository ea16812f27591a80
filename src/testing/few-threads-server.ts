import { createServer, type RequestListener, type ServerResponse } from 'node:http'
import { createServer as createNetServer, type Socket } from 'node:net'
import type { FakeReply, FakeRoutes } from './fake-engines.js'

// Test helper: a real HTTP server that serves connections the way cpp-httplib, llama.cpp's HTTP
// server, does (https://github.com/yhirose/cpp-httplib/blob/master/httplib.h ThreadPool,
// CPPHTTPLIB_KEEPALIVE_TIMEOUT_SECOND): a pool of N threads, each serving one connection from
// its first request until it closes, idle keep-alive connections kept 5 s, and further
// connections accepted by the kernel but left unread in a queue until a thread frees. llama.cpp
// sizes the pool with `--threads-http` (https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md).

export interface FewThreadsServerOptions {
  /** Connections served at once ("HTTP threads"). */
  threads: number
  /**
   * How long an idle keep-alive connection holds its thread (default 5000, as cpp-httplib); Node's
   * server sends this as the `Keep-Alive: timeout` hint and closes up to 1 s later.
   */
  keepAliveMs?: number
  handler: RequestListener
}

export interface FewThreadsServer {
  url: string
  /** Connections holding a thread now. */
  served(): number
  /** Connections accepted and waiting for a thread now. */
  queued(): number
  /** Connections accepted so far. */
  accepted(): number
  /** The most connections open at once (served + queued) so far. */
  peakOpen(): number
  close(): Promise<void>
}

export async function startFewThreadsServer(
  options: FewThreadsServerOptions,
): Promise<FewThreadsServer> {
  const http = createServer(options.handler)
  http.keepAliveTimeout = options.keepAliveMs ?? 5000
  const serving = new Set<Socket>()
  const waiting: Socket[] = []
  let accepted = 0
  let peak = 0

  const serve = (socket: Socket) => {
    serving.add(socket)
    socket.once('close', () => {
      serving.delete(socket)
      next()
    })
    // The documented way to hand a socket to an HTTP server that does not listen itself.
    http.emit('connection', socket)
    socket.resume()
  }
  const next = () => {
    while (serving.size < options.threads && waiting.length > 0) {
      const socket = waiting.shift() as Socket
      if (!socket.destroyed) serve(socket)
    }
  }
  // pauseOnConnect: a queued socket is not read, as a connection no thread has picked up yet.
  const front = createNetServer({ pauseOnConnect: true }, (socket) => {
    accepted++
    socket.on('error', () => {})
    if (serving.size < options.threads) serve(socket)
    else waiting.push(socket)
    peak = Math.max(peak, serving.size + waiting.length)
  })
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject)
    front.listen(0, '127.0.0.1', () => resolve())
  })
  const address = front.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return {
    url: `http://127.0.0.1:${address.port}`,
    served: () => serving.size,
    queued: () => waiting.length,
    accepted: () => accepted,
    peakOpen: () => peak,
    async close() {
      const closed = new Promise<void>((resolve) => front.close(() => resolve()))
      for (const s of waiting.splice(0)) s.destroy()
      for (const s of serving) s.destroy()
      await closed
    },
  }
}

/** Answers `routes` (`"/path"` or `"POST /path"`, as src/testing/fake-engines.ts); else 404. */
export function routesHandler(routes: FakeRoutes): RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/'
      const route =
        routes[`${req.method} ${path}`] ?? (req.method === 'GET' ? routes[path] : undefined)
      if (!route) return send(res, { status: 404, body: { detail: 'Not Found' } })
      send(
        res,
        typeof route === 'function' ? route(req, Buffer.concat(chunks).toString('utf8')) : route,
      )
    })
  }
}

function send(res: ServerResponse, reply: FakeReply): void {
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body)
  const write = () => {
    if (res.destroyed) return
    res.writeHead(reply.status ?? 200, {
      'content-type':
        reply.contentType ?? (typeof reply.body === 'string' ? 'text/plain' : 'application/json'),
    })
    res.end(text)
  }
  if (!reply.delayMs) {
    write()
    return
  }
  const timer = setTimeout(write, reply.delayMs)
  res.once('close', () => clearTimeout(timer))
}
