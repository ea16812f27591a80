import assert from 'node:assert/strict'
import { createServer, request } from 'node:http'
import type { Socket } from 'node:net'
import { type TestContext, test } from 'node:test'
import { Registry } from 'prom-client'
import { parseHttpUrl } from '../config/index.js'
import { closedPortUrl, closeServer, listenLocal } from '../testing/index.js'
import {
  recordingMeter,
  send,
  startUpstream,
  type Upstream,
  waitFor,
} from '../testing/proxy-upstream.js'
import { type ProxyHandle, type ProxyOptions, startProxy } from './index.js'

/** A proxy in front of `upstream`; after the test the proxy closes first, then the upstream. */
async function startProxyOver(
  t: TestContext,
  upstream: Upstream,
  options: Omit<ProxyOptions, 'upstream'> = {},
): Promise<ProxyHandle> {
  const proxy = await startProxy({ upstream: parseHttpUrl(upstream.url, 'upstream'), ...options })
  t.after(async () => {
    await proxy.close()
    await closeServer(upstream.server)
  })
  return proxy
}

const postEmpty = (url: string, path: string) =>
  send(url, { method: 'POST', path, body: Buffer.from('{}') })

test('connection refused -> 502 OpenAI-style error naming the upstream, within milliseconds', async (t) => {
  const upstream = await closedPortUrl()
  const meter = recordingMeter()
  // The answer must come from the refused connect itself, not from any timeout or retry: the
  // bound is far below the timeout (and loose enough for a loaded CI machine).
  const proxy = await startProxy({
    upstream: parseHttpUrl(upstream, 'upstream'),
    meter,
    upstreamTimeoutMs: 60_000,
  })
  t.after(() => proxy.close())
  const started = performance.now()
  const reply = await postEmpty(proxy.url, '/v1/chat/completions')
  const elapsedMs = performance.now() - started
  assert.equal(reply.status, 502)
  assert.equal(reply.headers['content-type'], 'application/json')
  const body = JSON.parse(reply.body.toString()) as {
    error: { message: string; type: string; code: string }
  }
  assert.equal(body.error.code, 'upstream_unreachable')
  assert.equal(body.error.type, 'server_error')
  assert.ok(body.error.message.includes(upstream), body.error.message)
  assert.ok(elapsedMs < 1500, `502 took ${elapsedMs.toFixed(1)} ms`)
  await waitFor(() => meter.exchanges[0]?.outcome !== undefined)
  assert.equal(meter.exchanges[0]?.outcome?.errorType, 'upstream_unreachable')
  assert.equal(proxy.inFlight(), 0)
})

test('no response headers within upstreamTimeoutMs -> 504, and the upstream request is aborted', async (t) => {
  const upstream = await startUpstream(() => {
    /* never answers */
  })
  const meter = recordingMeter()
  const proxy = await startProxyOver(t, upstream, { meter, upstreamTimeoutMs: 150 })
  const started = performance.now()
  const reply = await postEmpty(proxy.url, '/v1/completions')
  const elapsedMs = performance.now() - started
  assert.equal(reply.status, 504)
  assert.match(reply.body.toString(), /"code":"upstream_timeout"/)
  assert.ok(elapsedMs >= 140 && elapsedMs < 1500, `504 after ${elapsedMs.toFixed(0)} ms`)
  assert.equal(meter.exchanges[0]?.outcome?.errorType, 'upstream_timeout')
  await waitFor(() => upstream.seen[0]?.closedEarly === true, 1000, 'upstream to see the abort')
})

test('upstream reset mid-stream -> the client response ends (never hangs), metered upstream_reset', async (t) => {
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: {"choices":[{"delta":{"content":"a"}}]}\n\n')
    setTimeout(() => res.socket?.destroy(), 30)
  })
  const meter = recordingMeter()
  const proxy = await startProxyOver(t, upstream, { meter })
  const u = new URL(proxy.url)
  const outcome = await new Promise<string>((resolve) => {
    const req = request(
      { hostname: u.hostname, port: u.port, method: 'POST', path: '/v1/chat/completions' },
      (res) => {
        res.on('data', () => {})
        res.on('end', () => resolve('end'))
        res.on('error', () => resolve('error'))
        res.on('close', () => resolve(res.complete ? 'end' : 'aborted'))
      },
    )
    req.on('error', () => resolve('error'))
    req.end('{"stream":true}')
  })
  // A chunked response cut short is an incomplete message for the client: error or abort, not 'end'.
  assert.notEqual(outcome, 'end')
  await waitFor(() => meter.exchanges[0]?.outcome !== undefined)
  assert.equal(meter.exchanges[0]?.outcome?.errorType, 'upstream_reset')
  assert.equal(proxy.inFlight(), 0)
})

test('client disconnect aborts the upstream request at once, metered client_abort', async (t) => {
  let upstreamClosedAt = 0
  const upstream = await startUpstream(
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('data: {"choices":[{"delta":{"content":"a"}}]}\n\n')
      // ...and keeps the stream open, like a long generation.
    },
    (req) => {
      req.socket.on('close', () => {
        upstreamClosedAt = performance.now()
      })
    },
  )
  const meter = recordingMeter()
  const proxy = await startProxyOver(t, upstream, { meter })
  const u = new URL(proxy.url)
  let clientSocket: Socket | undefined
  await new Promise<void>((resolve, reject) => {
    const req = request(
      { hostname: u.hostname, port: u.port, method: 'POST', path: '/v1/chat/completions' },
      (res) => {
        res.once('data', () => resolve())
      },
    )
    req.on('socket', (s) => {
      clientSocket = s
    })
    req.on('error', () => {})
    req.end('{"stream":true}')
    setTimeout(() => reject(new Error('no first chunk')), 2000)
  })
  const abortedAt = performance.now()
  clientSocket?.destroy()
  await waitFor(() => upstreamClosedAt > 0, 1000, "the upstream socket's close")
  assert.ok(
    upstreamClosedAt - abortedAt < 500,
    `upstream saw the close after ${(upstreamClosedAt - abortedAt).toFixed(1)} ms`,
  )
  assert.equal(upstream.seen[0]?.closedEarly, true)
  await waitFor(() => meter.exchanges[0]?.outcome !== undefined)
  assert.equal(meter.exchanges[0]?.outcome?.errorType, 'client_abort')
  assert.equal(proxy.inFlight(), 0)
})

test('a body over maxBodyBytes -> 413; with Content-Length the upstream is never contacted', async (t) => {
  const upstream = await startUpstream((_req, res) => res.end('ok'))
  const meter = recordingMeter()
  const proxy = await startProxyOver(t, upstream, { meter, maxBodyBytes: 1024 })
  const big = await send(proxy.url, {
    method: 'POST',
    path: '/v1/completions',
    body: Buffer.alloc(2048, 0x61),
    headers: { 'content-length': '2048' },
  })
  assert.equal(big.status, 413)
  assert.match(big.body.toString(), /"code":"request_too_large"/)
  assert.equal(upstream.seen.length, 0)
  assert.equal(meter.exchanges[0]?.outcome?.errorType, '413')

  // Chunked and growing past the limit: 413, and what reached the upstream is aborted.
  const chunks = Array.from({ length: 8 }, () => Buffer.alloc(256, 0x62))
  const grown = await send(proxy.url, {
    method: 'POST',
    path: '/v1/completions',
    body: chunks,
  }).catch((e: Error) => e)
  if (!(grown instanceof Error)) assert.equal(grown.status, 413)
  assert.ok(upstream.seen.every((s) => s.body.length <= 1024))

  // At the limit is fine.
  const ok = await send(proxy.url, {
    method: 'POST',
    path: '/v1/completions',
    body: Buffer.alloc(1024, 0x63),
  })
  assert.equal(ok.status, 200)
})

test('a meter that throws never hurts the exchange', async (t) => {
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('x')
    res.end('y')
  })
  t.after(() => closeServer(upstream.server))
  for (const hook of [
    'observe',
    'requestChunk',
    'requestEnd',
    'responseHead',
    'responseChunk',
    'end',
  ] as const) {
    const proxy = await startProxy({
      upstream: parseHttpUrl(upstream.url, 'upstream'),
      meter: recordingMeter({ throwIn: hook }),
    })
    const reply = await send(proxy.url, {
      method: 'POST',
      path: '/v1/completions',
      body: Buffer.from('{"a":1}'),
    })
    assert.equal(reply.status, 200, hook)
    assert.equal(reply.body.toString(), 'xy', hook)
    assert.equal(proxy.inFlight(), 0, hook)
    await proxy.close()
  }
})

test('close() drains an in-flight stream, then stops; overhead is measured', async (t) => {
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    let n = 0
    const timer = setInterval(() => {
      n += 1
      res.write(`data: ${n}\n\n`)
      if (n === 5) {
        clearInterval(timer)
        res.end('data: [DONE]\n\n')
      }
    }, 20)
  })
  const registry = new Registry()
  const proxy = await startProxy({ upstream: parseHttpUrl(upstream.url, 'upstream'), registry })
  t.after(() => closeServer(upstream.server))
  const pending = postEmpty(proxy.url, '/v1/chat/completions')
  await waitFor(() => upstream.seen.length === 1)
  assert.equal(proxy.inFlight(), 1)
  await proxy.close({ drainTimeoutMs: 2000 })
  const reply = await pending
  assert.equal(reply.status, 200)
  assert.match(reply.body.toString(), /data: 5\n\ndata: \[DONE\]\n\n$/)
  await assert.rejects(send(proxy.url, { path: '/v1/models' }), /ECONNREFUSED/)
  assert.match(await registry.metrics(), /^inferwatch_proxy_overhead_seconds_count 1$/m)
})

test('close() with a short grace destroys a stream that does not finish', async (t) => {
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: 1\n\n')
  })
  const meter = recordingMeter()
  const proxy = await startProxy({ upstream: parseHttpUrl(upstream.url, 'upstream'), meter })
  t.after(() => closeServer(upstream.server))
  const pending = postEmpty(proxy.url, '/v1/chat/completions').catch((e: Error) => e)
  await waitFor(() => meter.exchanges[0]?.responseBytes === 9)
  const started = performance.now()
  await proxy.close({ drainTimeoutMs: 100 })
  assert.ok(performance.now() - started < 1000)
  assert.ok((await pending) instanceof Error)
  assert.equal(proxy.inFlight(), 0)
  await waitFor(() => upstream.seen[0]?.closedEarly === true, 1000, 'upstream abort')
})

test('bad upstream URLs and taken ports are clear AppErrors', async (t) => {
  for (const bad of ['ftp://x', 'not a url', 'http://h:1/?q=1'])
    assert.throws(() => parseHttpUrl(bad, '--upstream', 'UPSTREAM_URL_INVALID'), {
      code: 'UPSTREAM_URL_INVALID',
    })
  const taken = createServer()
  const url = await listenLocal(taken)
  t.after(() => closeServer(taken))
  await assert.rejects(
    startProxy({
      upstream: parseHttpUrl('http://127.0.0.1:1', 'upstream'),
      host: '127.0.0.1',
      port: Number(new URL(url).port),
    }),
    (e: Error & { code?: string; hint?: string }) =>
      e.code === 'PROXY_LISTEN_FAILED' && /another process/.test(e.hint ?? ''),
  )
})

test('an upstream that answers before reading the body does not pin a pooled socket', async (t) => {
  const upstream = await startUpstream(
    () => {},
    (req, res) => {
      // Answer at once, before the request body has arrived.
      res.writeHead(400, { 'content-type': 'application/json', 'content-length': 2 })
      res.end('{}')
      req.resume()
    },
  )
  const meter = recordingMeter()
  const proxy = await startProxyOver(t, upstream, { meter })
  const u = new URL(proxy.url)
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      { hostname: u.hostname, port: u.port, method: 'POST', path: '/v1/completions' },
      (res) => {
        res.resume()
        res.on('end', () => {
          resolve(res.statusCode ?? 0)
          req.destroy()
        })
      },
    )
    req.on('error', () => {})
    req.on('close', () => {})
    req.write('{"prompt": "the body never ends')
    setTimeout(() => reject(new Error('no response')), 2000).unref()
  })
  assert.equal(status, 400)
  await waitFor(() => proxy.inFlight() === 0, 2000, 'the exchange to end')
  // The upstream socket is destroyed, not left in the pool half-written.
  let open = -1
  const deadline = Date.now() + 2000
  while (open !== 0 && Date.now() < deadline) {
    open = await new Promise<number>((r) => upstream.server.getConnections((_e, c) => r(c)))
    if (open !== 0) await new Promise((r) => setTimeout(r, 10))
  }
  assert.equal(open, 0, 'no upstream connection left open')
})

test('idle pooled upstream connections are closed by the proxy before the engine closes them', async (t) => {
  const upstream = await startUpstream((_req, res) => res.end('ok'))
  upstream.server.keepAliveTimeout = 30_000
  let closedAt = 0
  upstream.server.on('connection', (s) => s.on('close', () => (closedAt = performance.now())))
  const proxy = await startProxyOver(t, upstream, { upstreamIdleTimeoutMs: 150 })
  const reply = await send(proxy.url, { path: '/v1/models' })
  assert.equal(reply.status, 200)
  const doneAt = performance.now()
  await waitFor(() => closedAt > 0, 3000, 'the idle upstream socket to close')
  assert.ok(
    closedAt - doneAt >= 100,
    `closed after ${(closedAt - doneAt).toFixed(0)} ms, not at once`,
  )
  // A later request opens a fresh connection and works.
  assert.equal((await send(proxy.url, { path: '/v1/models' })).status, 200)
})

test('a long wait for response headers is not cut by the idle timeout', async (t) => {
  const upstream = await startUpstream((_req, res) => {
    setTimeout(() => res.end('late'), 400)
  })
  const proxy = await startProxyOver(t, upstream, { upstreamIdleTimeoutMs: 100 })
  const reply = await postEmpty(proxy.url, '/v1/completions')
  assert.equal(reply.status, 200)
  assert.equal(reply.body.toString(), 'late')
})
