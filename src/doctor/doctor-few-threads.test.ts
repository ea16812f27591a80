import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { describe, test } from 'node:test'
import { llamacppRoutes } from '../testing/fake-engines.js'
import { routesHandler, startFewThreadsServer } from '../testing/few-threads-server.js'
import { runDoctor } from './run-doctor.js'
import type { DoctorReport } from './types.js'

// doctor against an engine that serves few connections at once (llama.cpp's cpp-httplib: one per
// HTTP thread, idle keep-alive connections kept 5 s): its own probing must not fail it.

const ENGINE_CHECKS = ['engine.answers', 'engine.identified', 'engine.metrics', 'engine.completion']

function engineStatuses(report: DoctorReport): Record<string, string> {
  return Object.fromEntries(
    report.checks
      .filter((c) => ENGINE_CHECKS.includes(c.id))
      .map((c) => [c.id, `${c.status}: ${c.finding}`]),
  )
}

describe('doctor with few HTTP threads', () => {
  for (const threads of [1, 2, 4]) {
    test(`${threads} thread(s), 5 s keep-alive: every engine check passes`, async (t) => {
      const engine = await startFewThreadsServer({
        threads,
        handler: routesHandler(llamacppRoutes()),
      })
      t.after(() => engine.close())
      const report = await runDoctor({ upstream: engine.url, timeoutMs: 3000 })
      const statuses = engineStatuses(report)
      for (const id of ENGINE_CHECKS)
        assert.match(statuses[id] ?? '', /^pass: /, `${id}: ${statuses[id]}`)
      assert.match(
        statuses['engine.identified'] ?? '',
        /llama\.cpp b6123-0123abcd; model .*; max context 8192 tokens/,
      )
      assert.ok(engine.peakOpen() <= 2, `peak ${engine.peakOpen()} connections`)
    })
  }

  test("another client's idle keep-alive connection on the only thread: doctor waits it out", async (t) => {
    const engine = await startFewThreadsServer({
      threads: 1,
      keepAliveMs: 1000,
      handler: routesHandler(llamacppRoutes()),
    })
    t.after(() => engine.close())
    const idle = connect(Number(new URL(engine.url).port), '127.0.0.1')
    t.after(() => idle.destroy())
    idle.write('GET /health HTTP/1.1\r\nHost: engine\r\n\r\n')
    await new Promise((resolve) => idle.once('data', resolve))
    assert.equal(engine.served(), 1)
    // Held for 1-2 s: the first 1.2 s /health probe times out, the second is answered.
    const report = await runDoctor({ upstream: engine.url, timeoutMs: 1200 })
    const statuses = engineStatuses(report)
    for (const id of ENGINE_CHECKS)
      assert.match(statuses[id] ?? '', /^pass: /, `${id}: ${statuses[id]}`)
  })
})
