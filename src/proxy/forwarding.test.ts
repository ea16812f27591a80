import assert from 'node:assert/strict'
import { request } from 'node:http'
import { test } from 'node:test'
import fc from 'fast-check'
import { Registry } from 'prom-client'
import { parseHttpUrl } from '../config/index.js'
import { closeServer } from '../testing/index.js'
import { recordingMeter, send, startUpstream, waitFor } from '../testing/proxy-upstream.js'
import { startProxy } from './index.js'

// Byte-exact forwarding in both directions, streamed and not, with random bodies (binary too) and
// random end-to-end header sets.

const headerName = fc.stringMatching(/^x-[a-z0-9]{1,12}$/)
const headerValue = fc.stringMatching(/^[!-~]([ -~]{0,30}[!-~])?$/)
const chunks = fc.array(fc.uint8Array({ maxLength: 4096 }), { maxLength: 6 })

test('bodies and end-to-end headers pass unchanged both ways (property)', async (t) => {
  let plan: { status: number; headers: [string, string][]; body: Uint8Array[]; chunked: boolean } =
    {
      status: 200,
      headers: [],
      body: [],
      chunked: false,
    }
  const upstream = await startUpstream((_req, res) => {
    const raw: string[] = []
    for (const [k, v] of plan.headers) raw.push(k, v)
    const total = plan.body.reduce((n, b) => n + b.length, 0)
    if (!plan.chunked) raw.push('Content-Length', String(total))
    res.writeHead(plan.status, raw)
    // Streamed: one write per chunk, each flushed separately.
    for (const b of plan.body) res.write(b)
    res.end()
  })
  const meter = recordingMeter()
  const proxy = await startProxy({
    upstream: parseHttpUrl(upstream.url, 'upstream'),
    meter,
    registry: new Registry(),
  })
  t.after(async () => {
    await proxy.close()
    await closeServer(upstream.server)
  })

  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'),
      fc.stringMatching(/^\/[A-Za-z0-9/_.~%-]{0,40}(\?[A-Za-z0-9=&%]{0,20})?$/),
      fc.uniqueArray(fc.tuple(headerName, headerValue), { selector: ([k]) => k, maxLength: 8 }),
      chunks,
      fc.uniqueArray(fc.tuple(headerName, headerValue), { selector: ([k]) => k, maxLength: 8 }),
      chunks,
      fc.boolean(),
      fc.constantFrom(200, 201, 400, 404, 500),
      fc.boolean(),
      async (
        method,
        path,
        reqHeaders,
        reqBody,
        resHeaders,
        resBody,
        chunked,
        status,
        reqChunked,
      ) => {
        plan = { status, headers: resHeaders, body: resBody, chunked }
        upstream.seen.length = 0
        const raw: string[] = []
        for (const [k, v] of reqHeaders) raw.push(k, v)
        const sent = Buffer.concat(reqBody)
        // Node's client frames DELETE bodies only with an explicit length.
        if (!reqChunked || method === 'DELETE') raw.push('Content-Length', String(sent.length))
        const reply = await send(proxy.url, {
          method,
          path,
          headers: raw,
          body: reqBody.map((b) => Buffer.from(b)),
        })
        const got = upstream.seen[0]
        assert.ok(got, 'upstream saw the request')
        assert.equal(got.method, method)
        assert.equal(got.url, path)
        assert.deepEqual(got.body, sent)
        for (const [k, v] of reqHeaders) {
          const i = got.rawHeaders.indexOf(k)
          assert.ok(i >= 0, `request header ${k} forwarded`)
          assert.equal(got.rawHeaders[i + 1], v)
        }
        assert.equal(reply.status, status)
        assert.deepEqual(reply.body, Buffer.concat(resBody))
        for (const [k, v] of resHeaders) {
          const i = reply.rawHeaders.indexOf(k)
          assert.ok(i >= 0, `response header ${k} forwarded`)
          assert.equal(reply.rawHeaders[i + 1], v)
        }
      },
    ),
    { numRuns: 40 },
  )
  // The meter saw every byte too (observer hooks run beside forwarding).
  const last = meter.exchanges.at(-1)
  assert.ok(last?.outcome)
  assert.equal(last.requestEnded, true)
})

test('hop-by-hop headers are dropped, end-to-end ones kept, Host names the upstream', async (t) => {
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, [
      'Connection',
      'X-Hop-Res',
      'X-Hop-Res',
      'secret',
      'Proxy-Authenticate',
      'Basic',
      'Keep-Alive',
      'timeout=5',
      'X-Kept-Res',
      'yes',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
      'Content-Length',
      '2',
    ])
    res.end('ok')
  })
  const proxy = await startProxy({ upstream: parseHttpUrl(upstream.url, 'upstream') })
  t.after(async () => {
    await proxy.close()
    await closeServer(upstream.server)
  })
  const reply = await send(proxy.url, {
    method: 'POST',
    path: '/v1/chat/completions',
    headers: [
      'Connection',
      'keep-alive, X-Hop-Req',
      'X-Hop-Req',
      'drop me',
      'TE',
      'trailers',
      'Proxy-Authorization',
      'Basic Zm9vOmJhcg==',
      'Upgrade',
      'websocket',
      'Authorization',
      'Bearer sk-kept',
      'X-Kept-Req',
      'yes',
    ],
    body: Buffer.from('{}'),
  })
  const seen = upstream.seen[0]
  assert.ok(seen)
  const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())
  for (const hop of ['x-hop-req', 'te', 'proxy-authorization', 'upgrade']) {
    assert.ok(!names.includes(hop), `${hop} must not reach the upstream`)
  }
  assert.equal(seen.rawHeaders[seen.rawHeaders.indexOf('Authorization') + 1], 'Bearer sk-kept')
  assert.equal(seen.rawHeaders[seen.rawHeaders.indexOf('X-Kept-Req') + 1], 'yes')
  // One Host, the upstream's (undici writes its name in lower case).
  assert.deepEqual(
    seen.rawHeaders.filter(
      (_, i) => seen.rawHeaders[i - 1]?.toLowerCase() === 'host' && i % 2 === 1,
    ),
    [new URL(upstream.url).host],
  )
  assert.equal(reply.headers['x-hop-res'], undefined)
  assert.equal(reply.headers['proxy-authenticate'], undefined)
  assert.equal(reply.headers['x-kept-res'], 'yes')
  assert.deepEqual(reply.headers['set-cookie'], ['a=1', 'b=2'])
  assert.equal(reply.body.toString(), 'ok')
})

test('a path prefix in the upstream URL is kept; trailers are forwarded', async (t) => {
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { Trailer: 'X-Checksum', 'Content-Type': 'text/plain' })
    res.write('a')
    res.addTrailers({ 'X-Checksum': 'abc' })
    res.end('b')
  })
  const proxy = await startProxy({ upstream: parseHttpUrl(`${upstream.url}/engine/`, 'upstream') })
  t.after(async () => {
    await proxy.close()
    await closeServer(upstream.server)
  })
  const reply = await send(proxy.url, { path: '/v1/models?x=1' })
  assert.equal(upstream.seen[0]?.url, '/engine/v1/models?x=1')
  assert.equal(reply.body.toString(), 'ab')
  assert.equal(reply.trailers['x-checksum'], 'abc')
})

test('malformed JSON is forwarded as is and the engine answers', async (t) => {
  const upstream = await startUpstream((_req, res, body) => {
    res.writeHead(400, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: { message: `bad json: ${body.length} bytes` } }))
  })
  const meter = recordingMeter()
  const proxy = await startProxy({ upstream: parseHttpUrl(upstream.url, 'upstream'), meter })
  t.after(async () => {
    await proxy.close()
    await closeServer(upstream.server)
  })
  const body = Buffer.from('{"model": "qwen3", "messages": [')
  const reply = await send(proxy.url, {
    method: 'POST',
    path: '/v1/chat/completions',
    body,
    headers: { 'content-type': 'application/json' },
  })
  assert.equal(reply.status, 400)
  assert.deepEqual(upstream.seen[0]?.body, body)
  assert.match(reply.body.toString(), /bad json: 32 bytes/)
  assert.equal(meter.exchanges[0]?.outcome?.errorType, '400')
  assert.equal(meter.exchanges[0]?.requestBytes, body.length)
})

test('request bodies stream to the upstream as they arrive; responses stream back chunk by chunk', async (t) => {
  let upstreamBytes = 0
  let release: () => void = () => {}
  const released = new Promise<void>((r) => {
    release = r
  })
  const upstream = await startUpstream(
    () => {},
    (req, res) => {
      req.on('data', (c: Buffer) => {
        upstreamBytes += c.length
      })
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.write('data: first\n\n')
        void released.then(() => res.end('data: [DONE]\n\n'))
      })
    },
  )
  const proxy = await startProxy({ upstream: parseHttpUrl(upstream.url, 'upstream') })
  t.after(async () => {
    await proxy.close()
    await closeServer(upstream.server)
  })
  const u = new URL(proxy.url)
  const chunks: string[] = []
  const ended = new Promise<void>((resolve, reject) => {
    const req = request(
      { hostname: u.hostname, port: u.port, method: 'POST', path: '/v1/chat/completions' },
      (res) => {
        res.setEncoding('utf8')
        res.on('data', (c: string) => chunks.push(c))
        res.on('end', () => resolve())
      },
    )
    req.on('error', reject)
    req.write('{"stream":true,')
    // The first part reaches the engine while the client is still sending.
    void waitFor(() => upstreamBytes === 15, 2000, 'the first body part upstream').then(
      () => req.end('"x":1}'),
      reject,
    )
  })
  // The first event reaches the client while the engine is still generating.
  await waitFor(() => chunks.join('') === 'data: first\n\n', 2000, 'the first event')
  release()
  await ended
  assert.equal(chunks.join(''), 'data: first\n\ndata: [DONE]\n\n')
  assert.equal(upstreamBytes, 21)
})

test('HEAD, 204 and 304 pass through without a body and without hanging', async (t) => {
  const upstream = await startUpstream((req, res) => {
    if (req.url === '/204') res.writeHead(204)
    else if (req.url === '/304') res.writeHead(304, { etag: '"v1"' })
    else res.writeHead(200, { 'content-length': 5, 'content-type': 'text/plain' })
    res.end(req.method === 'HEAD' || req.url !== '/x' ? undefined : 'hello')
  })
  const proxy = await startProxy({ upstream: parseHttpUrl(upstream.url, 'upstream') })
  t.after(async () => {
    await proxy.close()
    await closeServer(upstream.server)
  })
  const head = await send(proxy.url, { method: 'HEAD', path: '/x' })
  assert.equal(head.status, 200)
  assert.equal(head.headers['content-length'], '5')
  assert.equal(head.body.length, 0)
  assert.equal((await send(proxy.url, { path: '/204' })).status, 204)
  const notModified = await send(proxy.url, { path: '/304', headers: { 'if-none-match': '"v1"' } })
  assert.equal(notModified.status, 304)
  assert.equal(notModified.headers.etag, '"v1"')
  assert.equal((await send(proxy.url, { path: '/x' })).body.toString(), 'hello')
  assert.equal(proxy.inFlight(), 0)
})

test('Expect: 100-continue: the client is told to go on, the body arrives, the engine is not asked again', async (t) => {
  const upstream = await startUpstream((_req, res, body) => res.end(body))
  const proxy = await startProxy({ upstream: parseHttpUrl(upstream.url, 'upstream') })
  t.after(async () => {
    await proxy.close()
    await closeServer(upstream.server)
  })
  const body = Buffer.from('{"model":"m","messages":[]}')
  const reply = await new Promise<{ status: number; body: string; continued: boolean }>(
    (resolve, reject) => {
      let continued = false
      const u = new URL(proxy.url)
      const req = request({
        hostname: u.hostname,
        port: u.port,
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { expect: '100-continue', 'content-length': String(body.length) },
        agent: false,
      })
      // The body goes only once the proxy answered 100 Continue.
      req.on('continue', () => {
        continued = true
        req.end(body)
      })
      req.on('response', (res) => {
        const parts: Buffer[] = []
        res.on('data', (c: Buffer) => parts.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(parts).toString(),
            continued,
          }),
        )
      })
      req.on('error', reject)
    },
  )
  assert.equal(reply.status, 200)
  assert.ok(reply.continued, 'the client got 100 Continue')
  assert.equal(reply.body, body.toString())
  const names = upstream.seen[0]?.rawHeaders.filter((_, i) => i % 2 === 0) ?? []
  assert.ok(!names.some((n) => n.toLowerCase() === 'expect'), `engine saw ${names.join(', ')}`)
})

test('a request line HTTP/1.1 cannot carry upstream (OPTIONS *) -> 400 request_not_forwardable, the proxy goes on', async (t) => {
  const upstream = await startUpstream((_req, res) => res.end('ok'))
  const meter = recordingMeter()
  const proxy = await startProxy({ upstream: parseHttpUrl(upstream.url, 'upstream'), meter })
  t.after(async () => {
    await proxy.close()
    await closeServer(upstream.server)
  })
  const reply = await send(proxy.url, { method: 'OPTIONS', path: '*' })
  assert.equal(reply.status, 400)
  assert.equal(reply.headers['x-inferwatch-error'], 'request_not_forwardable')
  assert.match(reply.body.toString(), /cannot be forwarded/)
  assert.equal(upstream.seen.length, 0)
  // The next request is forwarded as usual.
  assert.equal((await send(proxy.url, { path: '/v1/models' })).status, 200)
  assert.equal(proxy.inFlight(), 0)
})
