import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Gauge, Registry } from 'prom-client'
import { parseHttpUrl } from '../config/index.js'
import { registerEngineInfo } from '../engines/index.js'
import type { Meter } from '../meter/index.js'
import { createLogger } from '../shared/index.js'
import { type FakeReply, llamacppRoutes, startFakeEngine } from '../testing/fake-engines.js'
import { routesHandler, startFewThreadsServer } from '../testing/few-threads-server.js'
import { timedGet } from '../testing/index.js'
import { type EngineWatchOptions, startEngineWatch } from './_engine-watch.js'
import { TIMEOUTS_BEFORE_DOWN } from './_upstream-health.js'

// The health probe and the discovery loop against engines with few HTTP threads: correct
// verdicts, only the models asked once the engine is known, nothing left behind, and the engine
// responsive to its own clients meanwhile.

function watchParts(url: string, overrides: Partial<EngineWatchOptions> = {}) {
  const registry = new Registry()
  const served: string[][] = []
  const logs: string[] = []
  const meter: Meter = {
    observe: () => undefined,
    setServedModels: (models) => {
      served.push([...models])
    },
    close: async () => {},
  }
  const options: EngineWatchOptions = {
    upstream: parseHttpUrl(url, 'upstream'),
    meter,
    upGauge: new Gauge({
      name: 'inferwatch_upstream_up',
      help: 'up',
      labelNames: ['upstream'] as const,
      registers: [registry],
    }),
    engineInfo: registerEngineInfo(registry),
    healthIntervalMs: 3_600_000,
    modelsRefreshMs: 3_600_000,
    logger: createLogger({ write: (line) => logs.push(line) }),
    ...overrides,
  }
  const up = async () =>
    (await registry.metrics()).match(/^inferwatch_upstream_up\{.*\} (\d)$/m)?.[1]
  return { registry, served, logs, options, up }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

describe('engine watch', () => {
  test('once the engine is known a refresh asks only /v1/models; a changed list rediscovers', async (t) => {
    const engine = await startFakeEngine(llamacppRoutes())
    t.after(() => engine.close())
    const { options, registry, served } = watchParts(engine.url, { modelsRefreshMs: 5 })
    const watch = startEngineWatch(options)
    t.after(() => watch.close())
    await watch.first
    const count = (r: string) => engine.requests.filter((x) => x === r).length
    await waitFor('20 refreshes', () => count('GET /v1/models') >= 20)
    assert.equal(count('GET /props'), 1)
    assert.equal(count('GET /metrics'), 1)
    assert.match(
      await registry.metrics(),
      /^inferwatch_engine_info\{engine="llamacpp",version="b6123-0123abcd",model="Qwen3-4B-Instruct-2507-Q4_K_M.gguf",max_model_len="8192"\} 1$/m,
    )

    engine.setRoutes({ '/v1/models': { body: { data: [{ id: 'other', owned_by: 'llamacpp' }] } } })
    await waitFor('a second discovery', () => count('GET /props') === 2)
    await waitFor('the new model', () => served.at(-1)?.[0] === 'other')
    await waitFor('refreshes after it', () => count('GET /v1/models') >= 30)
    assert.equal(count('GET /props'), 2)
  })

  test(`health is down on a refused connection or an error status at once, on silence only after ${TIMEOUTS_BEFORE_DOWN} probes`, async (t) => {
    let reply: FakeReply = { body: { status: 'ok' } }
    const engine = await startFakeEngine({ ...llamacppRoutes(), '/health': () => reply })
    t.after(() => engine.close())
    const { options, up, logs } = watchParts(engine.url, { healthTimeoutMs: 100 })
    const watch = startEngineWatch(options)
    t.after(() => watch.close())
    await watch.first
    assert.equal(await up(), '1')

    reply = { body: { status: 'ok' }, delayMs: 1000 }
    for (let i = 1; i < TIMEOUTS_BEFORE_DOWN; i++) {
      assert.deepEqual(await watch.check(), { ok: true }, `after ${i} unanswered probe(s)`)
      assert.equal(await up(), '1')
    }
    const silent = await watch.check()
    assert.equal(silent.ok, false)
    assert.match(silent.reason ?? '', /timeout: no answer within 100 ms \(3 probes in a row\)/)
    assert.equal(await up(), '0')

    reply = { body: { status: 'ok' } }
    assert.deepEqual(await watch.check(), { ok: true })
    // One unanswered probe after an answer counts from zero again.
    reply = { body: { status: 'ok' }, delayMs: 1000 }
    assert.deepEqual(await watch.check(), { ok: true })

    reply = { status: 503, body: { error: { code: 503, message: 'Loading model', type: 'x' } } }
    const loading = await watch.check()
    assert.equal(loading.ok, false)
    assert.match(loading.reason ?? '', /answered HTTP 503/)
    assert.equal(await up(), '0')

    reply = { body: { status: 'ok' } }
    assert.deepEqual(await watch.check(), { ok: true })
    await engine.close()
    const refused = await watch.check()
    assert.match(refused.reason ?? '', /refused/)
    assert.equal(await up(), '0')
    assert.equal(logs.filter((l) => /upstream is not ready/.test(l)).length, 3)
  })

  test('a hung engine: the first health verdict comes after one probe timeout, discovery goes on behind it', async (t) => {
    const hung: FakeReply = { body: '', delayMs: 10_000 }
    const engine = await startFakeEngine({})
    engine.setRoutes({ '/health': hung, '/v1/models': hung, '/props': hung, '/metrics': hung })
    t.after(() => engine.close())
    const { options, up, registry } = watchParts(engine.url, {
      healthTimeoutMs: 200,
      discoveryTimeoutMs: 1000,
    })
    const watch = startEngineWatch(options)
    const started = performance.now()
    await watch.first
    const ms = performance.now() - started
    assert.ok(ms < 900, `first took ${Math.round(ms)} ms`)
    assert.equal(await up(), '0')
    assert.doesNotMatch(await registry.metrics(), /^inferwatch_engine_info\{/m)
    // Closing aborts the discovery in flight rather than waiting for its timeouts.
    const closing = performance.now()
    await watch.close()
    assert.ok(performance.now() - closing < 500)
  })

  test('concurrent checks share one probe', async (t) => {
    const engine = await startFakeEngine(llamacppRoutes())
    t.after(() => engine.close())
    const { options } = watchParts(engine.url)
    const watch = startEngineWatch(options)
    t.after(() => watch.close())
    await watch.first
    engine.requests.length = 0
    const all = await Promise.all(Array.from({ length: 10 }, () => watch.check()))
    assert.ok(all.every((r) => r.ok))
    assert.deepEqual(engine.requests, ['GET /health'])
  })

  test('many cycles: at most 2 connections, no timer, socket or listener left growing', async (t) => {
    const engine = await startFewThreadsServer({
      threads: 2,
      handler: routesHandler(llamacppRoutes()),
    })
    t.after(() => engine.close())
    const warnings: Error[] = []
    const onWarning = (w: Error) => warnings.push(w)
    process.on('warning', onWarning)
    t.after(() => process.off('warning', onWarning))
    const resources = () => {
      const byType: Record<string, number> = {}
      for (const r of process.getActiveResourcesInfo()) byType[r] = (byType[r] ?? 0) + 1
      return byType
    }
    const before = resources()
    const { options, registry } = watchParts(engine.url, {
      healthIntervalMs: 2,
      modelsRefreshMs: 2,
    })
    const watch = startEngineWatch(options)
    await watch.first
    const peaks = (accepted: number) => {
      const peak: Record<string, number> = {}
      return (async () => {
        while (engine.accepted() < accepted) {
          for (const [k, v] of Object.entries(resources())) peak[k] = Math.max(peak[k] ?? 0, v)
          await sleep(1)
        }
        return peak
      })()
    }
    const early = await peaks(100)
    const late = await peaks(600)
    await watch.close()
    // A connect already under way when close aborted its probe may still reach the server.
    await sleep(50)
    const afterClose = engine.accepted()
    for (const type of new Set([...Object.keys(early), ...Object.keys(late)]))
      assert.ok(
        (late[type] ?? 0) <= (early[type] ?? 0) + 2,
        `${type}: ${early[type]} early, ${late[type]} after 500 more connections`,
      )
    assert.ok(engine.peakOpen() <= 2, `peak ${engine.peakOpen()} connections`)
    assert.deepEqual(warnings, [])
    assert.match(await registry.metrics(), /^inferwatch_upstream_up\{.*\} 1$/m)
    // Closed: nothing runs any more, and every timer and socket of the watch is gone.
    await sleep(100)
    assert.equal(engine.accepted(), afterClose)
    await waitFor('the sockets to close', () => engine.served() === 0)
    const noMore = () => Object.entries(resources()).every(([type, n]) => n <= (before[type] ?? 0))
    await waitFor('no more resources than before', noMore).catch(() =>
      assert.deepEqual(resources(), before),
    )
  })

  test('the engine answers another client within 1 s while watched (4 HTTP threads, 5 s keep-alive)', async (t) => {
    let n = 0
    const models = () => ({
      body: { data: [{ id: `m${Math.floor(n++ / 5)}`, owned_by: 'llamacpp' }] },
    })
    const changing = await startFewThreadsServer({
      threads: 4,
      handler: routesHandler({ ...llamacppRoutes(), '/v1/models': models }),
    })
    t.after(() => changing.close())
    // The served model changes every 5 lists: refreshes, and a full discovery now and then.
    const { options } = watchParts(changing.url, { healthIntervalMs: 20, modelsRefreshMs: 20 })
    const watch = startEngineWatch(options)
    t.after(() => watch.close())
    const latencies: number[] = []
    const until = Date.now() + 1500
    while (Date.now() < until) {
      latencies.push(await timedGet(`${changing.url}/health`))
      await sleep(10)
    }
    assert.ok(n > 20, `only ${n} model lists asked`)
    const worst = Math.max(...latencies)
    t.diagnostic(`other client: ${latencies.length} requests, worst ${Math.round(worst)} ms`)
    assert.ok(worst < 1000, `another client waited ${Math.round(worst)} ms`)
  })
})
