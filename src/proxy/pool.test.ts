import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseHttpUrl } from '../config/index.js'
import { closeServer } from '../testing/index.js'
import { send, startUpstream, waitFor } from '../testing/proxy-upstream.js'
import { startProxy } from './index.js'

// The upstream pool (undici) closes idle connections itself, never later than
// the idle limit, and earlier when the engine announces a shorter keep-alive.

async function idleCloseAfterMs(keepAliveTimeoutMs: number, idleMs?: number): Promise<number> {
  const upstream = await startUpstream((_req, res) => res.end('ok'))
  // A Node server announces `Keep-Alive: timeout=<s>` from this.
  upstream.server.keepAliveTimeout = keepAliveTimeoutMs
  let closedAt = 0
  upstream.server.on('connection', (s) => s.on('close', () => (closedAt = performance.now())))
  const proxy = await startProxy({
    upstream: parseHttpUrl(upstream.url, 'upstream'),
    ...(idleMs === undefined ? {} : { upstreamIdleTimeoutMs: idleMs }),
  })
  try {
    assert.equal((await send(proxy.url, { path: '/v1/models' })).status, 200)
    const doneAt = performance.now()
    await waitFor(() => closedAt > 0, 5000, 'the idle upstream socket to close')
    // A later request opens a fresh connection and works.
    assert.equal((await send(proxy.url, { path: '/v1/models' })).status, 200)
    return closedAt - doneAt
  } finally {
    await proxy.close()
    await closeServer(upstream.server)
  }
}

test('idle upstream sockets close within the idle limit, a little early', async () => {
  const ms = await idleCloseAfterMs(30_000, 400)
  // Closed at the 400 ms idle limit (slack for a busy test machine).
  assert.ok(ms >= 300 && ms <= 800, `closed after ${ms.toFixed(0)} ms`)
})

test("an engine's shorter Keep-Alive timeout is honoured (1 s before it)", async () => {
  // timeout=2 -> at most 1 s idle (below the 60 s default); the engine itself would close at 2 s.
  const ms = await idleCloseAfterMs(2000)
  assert.ok(ms >= 400 && ms <= 1500, `closed after ${ms.toFixed(0)} ms`)
})
