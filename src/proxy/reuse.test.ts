import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import { type TestContext, test } from 'node:test'
import { parseHttpUrl } from '../config/index.js'
import { recordingMeter, send, waitFor } from '../testing/proxy-upstream.js'
import { RETRY_BODY_BYTES } from './_exchange.js'
import { startProxy } from './index.js'

// Upstream connections are reused; an engine that closes a kept-alive connection just as a request
// is sent on it (before answering) must not turn into a 502: the proxy sends the request once more
// on a new connection, body intact. Never after a response byte, never for a body it did not keep,
// never when the connection was new.

/** What a raw upstream does with the n-th request (1-based) of one connection. */
type Act = 'answer' | 'drop' | 'reset' | 'partial-head'

interface RawRequest {
  connection: number
  nth: number
  head: string
  body: Buffer
}

interface RawUpstream {
  url: string
  server: Server
  connections: number
  requests: RawRequest[]
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** A raw HTTP/1.1 server (node:net, so it can misbehave exactly): answers with the sha256 of the
 * request body and announces a long keep-alive, or drops the connection after reading a request. */
async function rawUpstream(act: (nth: number) => Act): Promise<RawUpstream> {
  const up: RawUpstream = { url: '', server: createServer(), connections: 0, requests: [] }
  up.server.on('connection', (socket: Socket) => {
    up.server.once('closeAll', () => socket.destroy())
    const connection = ++up.connections
    let nth = 0
    let buf = Buffer.alloc(0)
    socket.on('error', () => {})
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      for (;;) {
        const parsed = parseRequest(buf)
        if (!parsed) return
        buf = buf.subarray(parsed.used)
        nth += 1
        up.requests.push({ connection, nth, head: parsed.head, body: parsed.body })
        const what = act(nth)
        if (what === 'drop') return void socket.destroy()
        // An RST instead of a FIN: the proxy sees ECONNRESET on the socket, not a close.
        if (what === 'reset') return void socket.resetAndDestroy()
        if (what === 'partial-head') {
          socket.end('HTTP/1.1 200 OK\r\n')
          return
        }
        const body = JSON.stringify({ sha: sha(parsed.body), bytes: parsed.body.length })
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nKeep-Alive: timeout=30\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        )
      }
    })
  })
  await new Promise<void>((resolve) => up.server.listen(0, '127.0.0.1', resolve))
  up.url = `http://127.0.0.1:${(up.server.address() as { port: number }).port}`
  return up
}

async function closeRaw(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.emit('closeAll')
  })
}

/** One request from `buf` (Content-Length or chunked body), or undefined while incomplete. */
function parseRequest(buf: Buffer): { head: string; body: Buffer; used: number } | undefined {
  const end = buf.indexOf('\r\n\r\n')
  if (end < 0) return undefined
  const head = buf.subarray(0, end).toString('latin1')
  let at = end + 4
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1]
  if (length !== undefined) {
    if (buf.length < at + Number(length)) return undefined
    return { head, body: buf.subarray(at, at + Number(length)), used: at + Number(length) }
  }
  if (!/\r\ntransfer-encoding:\s*chunked/i.test(head))
    return { head, body: Buffer.alloc(0), used: at }
  const parts: Buffer[] = []
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', at)
    if (lineEnd < 0) return undefined
    const size = Number.parseInt(buf.subarray(at, lineEnd).toString('latin1'), 16)
    if (buf.length < lineEnd + 2 + size + 2) return undefined
    if (size === 0) return { head, body: Buffer.concat(parts), used: lineEnd + 4 }
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size))
    at = lineEnd + 2 + size + 2
  }
}

async function setup(t: TestContext, act: (nth: number) => Act) {
  const upstream = await rawUpstream(act)
  const meter = recordingMeter()
  const proxy = await startProxy({ upstream: parseHttpUrl(upstream.url, 'upstream'), meter })
  t.after(async () => {
    await proxy.close()
    await closeRaw(upstream.server)
  })
  const post = (body: Buffer | Buffer[]) =>
    send(proxy.url, {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: Array.isArray(body)
        ? { 'content-type': 'application/json' }
        : { 'content-type': 'application/json', 'content-length': String(body.length) },
      body,
    })
  return { upstream, meter, proxy, post }
}

test('the engine drops a reused connection on the request -> retried once on a new one, body byte-identical, metered once', async (t) => {
  const { upstream, meter, proxy, post } = await setup(t, (nth) => (nth === 2 ? 'drop' : 'answer'))
  assert.equal((await post(Buffer.from('{"first":true}'))).status, 200)
  // Every byte value, in several chunks (chunked upstream too): what the retry sends is checked
  // against what the client sent.
  const body = Buffer.concat([
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    randomBytes(300_000),
  ])
  const pieces = [body.subarray(0, 1000), body.subarray(1000, 150_000), body.subarray(150_000)]
  const reply = await post(pieces)
  assert.equal(reply.status, 200, reply.body.toString())
  assert.deepEqual(JSON.parse(reply.body.toString()), { sha: sha(body), bytes: body.length })
  // The dropped attempt went on connection 1 (its 2nd request), the retry on a new connection.
  assert.deepEqual(
    upstream.requests.map((r) => [r.connection, r.nth]),
    [
      [1, 1],
      [1, 2],
      [2, 1],
    ],
  )
  assert.ok(upstream.requests[2]?.body.equals(body), 'the retried body is byte-identical')
  await waitFor(() => meter.exchanges[1]?.outcome !== undefined)
  assert.equal(meter.exchanges.length, 2, 'one metered exchange per client request')
  assert.equal(meter.exchanges[1]?.status, 200)
  assert.equal(meter.exchanges[1]?.outcome?.errorType, '')
  assert.equal(meter.exchanges[1]?.requestBytes, body.length, 'request bytes counted once')
  assert.equal(proxy.inFlight(), 0)
})

test('the engine resets a reused connection on the request -> retried once on a new one', async (t) => {
  const { upstream, meter, post } = await setup(t, (nth) => (nth === 2 ? 'reset' : 'answer'))
  assert.equal((await post(Buffer.from('{"first":true}'))).status, 200)
  const body = Buffer.from('{"second":true}')
  const reply = await post(body)
  assert.equal(reply.status, 200, reply.body.toString())
  assert.equal(JSON.parse(reply.body.toString()).sha, sha(body))
  assert.deepEqual(
    upstream.requests.map((r) => [r.connection, r.nth]),
    [
      [1, 1],
      [1, 2],
      [2, 1],
    ],
  )
  await waitFor(() => meter.exchanges[1]?.outcome !== undefined)
  assert.equal(meter.exchanges[1]?.outcome?.errorType, '')
})

test('a new connection that is reset is not retried', async (t) => {
  const { upstream, post } = await setup(t, () => 'reset')
  const reply = await post(Buffer.from('{}'))
  assert.equal(reply.status, 502)
  assert.match(reply.body.toString(), /"code":"upstream_reset"/)
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(upstream.requests.length, 1)
})

test('no retry once a response byte arrived: the client sees 502 upstream_reset', async (t) => {
  const { upstream, meter, post } = await setup(t, (nth) => (nth === 2 ? 'partial-head' : 'answer'))
  assert.equal((await post(Buffer.from('{}'))).status, 200)
  const reply = await post(Buffer.from('{"second":true}'))
  assert.equal(reply.status, 502)
  assert.match(reply.body.toString(), /"code":"upstream_reset"/)
  await waitFor(() => meter.exchanges[1]?.outcome !== undefined)
  assert.equal(meter.exchanges[1]?.outcome?.errorType, 'upstream_reset')
  // Give a wrong retry time to show up before counting.
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(upstream.requests.length, 2, 'sent once, not again')
})

test('no retry for a body over the bound it keeps', async (t) => {
  const { upstream, meter, post } = await setup(t, (nth) => (nth === 2 ? 'drop' : 'answer'))
  assert.equal((await post(Buffer.from('{}'))).status, 200)
  const reply = await post(randomBytes(RETRY_BODY_BYTES + 1))
  assert.equal(reply.status, 502)
  assert.match(reply.body.toString(), /"code":"upstream_reset"/)
  await waitFor(() => meter.exchanges[1]?.outcome !== undefined)
  assert.equal(meter.exchanges.length, 2)
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(upstream.requests.length, 2, 'sent once, not again')
  assert.equal(upstream.requests[1]?.body.length, RETRY_BODY_BYTES + 1)
})

test('a body exactly at the bound is still retried', async (t) => {
  const { upstream, post } = await setup(t, (nth) => (nth === 2 ? 'drop' : 'answer'))
  assert.equal((await post(Buffer.from('{}'))).status, 200)
  const body = randomBytes(RETRY_BODY_BYTES)
  const reply = await post(body)
  assert.equal(reply.status, 200, reply.body.toString())
  assert.equal(JSON.parse(reply.body.toString()).sha, sha(body))
  assert.equal(upstream.requests.length, 3)
})

test('a new connection that fails is not retried', async (t) => {
  const { upstream, meter, post } = await setup(t, () => 'drop')
  const reply = await post(Buffer.from('{}'))
  assert.equal(reply.status, 502)
  assert.match(reply.body.toString(), /"code":"upstream_reset"/)
  await waitFor(() => meter.exchanges[0]?.outcome !== undefined)
  assert.equal(meter.exchanges[0]?.outcome?.errorType, 'upstream_reset')
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(upstream.requests.length, 1)
  assert.equal(upstream.connections, 1)
})

test('an idle connection is kept past 4 s by default and reused', async (t) => {
  const { upstream, post } = await setup(t, () => 'answer')
  assert.equal((await post(Buffer.from('{}'))).status, 200)
  await new Promise((r) => setTimeout(r, 4500))
  assert.equal((await post(Buffer.from('{}'))).status, 200)
  assert.equal(upstream.connections, 1, 'the second request reused the first connection')
})
