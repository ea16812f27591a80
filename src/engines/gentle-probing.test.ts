import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { connect } from 'node:net'
import { describe, test } from 'node:test'
import {
  llamacppRoutes,
  sglangRoutes,
  startFakeEngine,
  tgiRoutes,
  vllmRoutes,
} from '../testing/fake-engines.js'
import { routesHandler, startFewThreadsServer } from '../testing/few-threads-server.js'
import { timedGet } from '../testing/index.js'
import {
  createProbeLimiter,
  discoverEngine,
  type EngineInfo,
  probeUrl,
  refreshEngineModels,
} from './index.js'

// An engine with few HTTP threads (llama.cpp's cpp-httplib: one connection per thread, idle
// keep-alive connections kept 5 s) must stay correct and responsive while it is probed.

/** One GET from a client of its own (no pooling), in ms. */
/** Polls `url` every `everyMs` until `until` settles; returns the latencies. */
async function pollWhile(url: string, until: Promise<unknown>, everyMs = 20): Promise<number[]> {
  let done = false
  void until.finally(() => {
    done = true
  })
  const latencies: number[] = []
  while (!done) {
    latencies.push(await timedGet(url))
    await new Promise((r) => setTimeout(r, everyMs))
  }
  return latencies
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('probing an engine with few HTTP threads', () => {
  test('a probe closes its connection: the only thread is free for the next client at once', async (t) => {
    const engine = await startFewThreadsServer({
      threads: 1,
      handler: routesHandler(llamacppRoutes()),
    })
    t.after(() => engine.close())
    const r = await probeUrl(`${engine.url}/health`)
    assert.equal(r.ok && r.status, 200)
    await waitFor('the probe connection to close', () => engine.served() === 0)
    // Kept alive, the probe's connection would hold the thread for 5 s.
    assert.ok((await timedGet(`${engine.url}/health`)) < 1000)
  })

  test('a probe that times out waiting for a thread leaves no connection to hold one later', async (t) => {
    const engine = await startFewThreadsServer({
      threads: 1,
      keepAliveMs: 1500,
      handler: routesHandler(llamacppRoutes()),
    })
    t.after(() => engine.close())
    // Another client's idle keep-alive connection holds the only thread for 1.5 s (and Node's 1 s).
    const idle = connect(Number(new URL(engine.url).port), '127.0.0.1')
    t.after(() => idle.destroy())
    idle.write('GET /health HTTP/1.1\r\nHost: engine\r\n\r\n')
    await new Promise((resolve) => idle.once('data', resolve))
    assert.equal(engine.served(), 1)
    const r = await probeUrl(`${engine.url}/health`, { timeoutMs: 200 })
    assert.equal(!r.ok && r.failure, 'timeout')
    await waitFor('the idle connection to expire', () => engine.served() === 0, 3000)
    // Had the timed-out probe's socket stayed open, it would now hold the thread, idle.
    const ms = await timedGet(`${engine.url}/health`)
    assert.ok(ms < 1000, `the next client waited ${Math.round(ms)} ms`)
  })

  for (const threads of [1, 4]) {
    test(`discovery with ${threads} HTTP thread(s): every fact, at most 2 connections, none left open`, async (t) => {
      const engine = await startFewThreadsServer({
        threads,
        handler: routesHandler(llamacppRoutes()),
      })
      t.after(() => engine.close())
      const discovery = discoverEngine(engine.url)
      const latencies = await pollWhile(`${engine.url}/health`, discovery, 1)
      const info = await discovery
      assert.equal(info.provider, 'llamacpp')
      assert.equal(info.maxModelLen, 8192)
      assert.equal(info.version, 'b6123-0123abcd')
      assert.equal(info.metrics.served, true, info.metrics.detail)
      assert.equal(info.health.status, 'ok')
      // 2 probes plus the other client's request.
      assert.ok(engine.peakOpen() <= 3, `peak ${engine.peakOpen()} connections`)
      await waitFor('every probe connection to close', () => engine.served() === 0)
      assert.ok(latencies.length > 0)
      assert.ok(Math.max(...latencies) < 1000, `other client waited ${Math.max(...latencies)} ms`)
    })
  }

  test('discovery asks each engine only its own endpoints once the served models name it', async (t) => {
    const cases: [string, Parameters<typeof startFakeEngine>[0], string[]][] = [
      ['vllm', vllmRoutes(), ['/health', '/v1/models', '/version', '/metrics']],
      ['llamacpp', llamacppRoutes(), ['/health', '/v1/models', '/props', '/metrics']],
      [
        'sglang',
        sglangRoutes(),
        ['/health', '/v1/models', '/get_model_info', '/get_server_info', '/metrics'],
      ],
      [
        'tgi',
        tgiRoutes(),
        [
          '/health',
          '/v1/models',
          '/version',
          '/info',
          '/props',
          '/get_model_info',
          '/get_server_info',
          '/metrics',
        ],
      ],
    ]
    for (const [provider, routes, paths] of cases) {
      const engine = await startFakeEngine(routes)
      t.after(() => engine.close())
      const info = await discoverEngine(engine.url)
      assert.equal(info.provider, provider)
      assert.deepEqual(
        engine.requests.map((r) => r.replace(/^GET /, '')).sort(),
        [...paths].sort(),
        provider,
      )
    }
  })

  test("SGLang's newer /server_info is asked only where /get_server_info is gone", async (t) => {
    const routes = sglangRoutes()
    const serverInfo = routes['/get_server_info']
    assert.ok(serverInfo)
    delete routes['/get_server_info']
    routes['/server_info'] = serverInfo
    const engine = await startFakeEngine(routes)
    t.after(() => engine.close())
    const info = await discoverEngine(engine.url)
    assert.equal(info.maxModelLen, 32768)
    assert.equal(info.version, '0.4.9')
    assert.ok(engine.requests.includes('GET /server_info'))
  })

  test("llama.cpp: no /props, no context: the model's training context is not what it serves", async (t) => {
    const routes = llamacppRoutes()
    delete routes['/props']
    const engine = await startFakeEngine(routes)
    t.after(() => engine.close())
    const info = await discoverEngine(engine.url)
    assert.equal(info.provider, 'llamacpp')
    // /v1/models says n_ctx_train 262144; /props would say the per-slot n_ctx.
    assert.equal(info.maxModelLen, undefined)
  })

  test('a refused port is reported after the first two probes', async () => {
    const engine = await startFakeEngine({})
    const url = engine.url
    await engine.close()
    let sent = 0
    const counting: typeof fetch = (input, init) => {
      sent++
      return fetch(input, init)
    }
    await assert.rejects(
      discoverEngine(url, { fetch: counting }),
      /does not answer: connection refused/,
    )
    assert.equal(sent, 2)
  })
})

describe('createProbeLimiter', () => {
  test('runs at most N tasks at once and starts waiting tasks in order', async () => {
    const limiter = createProbeLimiter(2)
    const started: number[] = []
    const releases: (() => void)[] = []
    let peak = 0
    const tasks = [0, 1, 2, 3, 4].map((i) =>
      limiter.run(async () => {
        started.push(i)
        peak = Math.max(peak, limiter.inFlight())
        await new Promise<void>((r) => releases.push(r))
        return i
      }),
    )
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(started, [0, 1])
    releases.shift()?.()
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(started, [0, 1, 2])
    while (started.length < 5 || releases.length > 0) {
      releases.shift()?.()
      await new Promise((r) => setImmediate(r))
    }
    assert.deepEqual(await Promise.all(tasks), [0, 1, 2, 3, 4])
    assert.deepEqual(started, [0, 1, 2, 3, 4])
    assert.equal(peak, 2)
    assert.equal(limiter.inFlight(), 0)
  })

  test('a task that throws frees its slot', async () => {
    const limiter = createProbeLimiter(1)
    await assert.rejects(
      limiter.run(async () => {
        throw new Error('boom')
      }),
      /boom/,
    )
    assert.equal(await limiter.run(async () => 7), 7)
    assert.equal(limiter.inFlight(), 0)
  })
})

describe('probeUrl with an outer signal', () => {
  test('aborting ends the probe as `aborted`; no listener stays on the signal', async (t) => {
    const engine = await startFakeEngine({
      '/health': { body: 'ok' },
      '/slow': { body: 'late', delayMs: 5000 },
    })
    t.after(() => engine.close())
    const outer = new AbortController()
    for (let i = 0; i < 50; i++) {
      const r = await probeUrl(`${engine.url}/health`, { signal: outer.signal })
      assert.equal(r.ok && r.status, 200)
    }
    assert.equal(getEventListeners(outer.signal, 'abort').length, 0)
    const slow = probeUrl(`${engine.url}/slow`, { signal: outer.signal })
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(getEventListeners(outer.signal, 'abort').length, 1)
    outer.abort()
    const r = await slow
    assert.equal(r.ok, false)
    assert.equal(!r.ok && r.failure, 'aborted')
    assert.equal(getEventListeners(outer.signal, 'abort').length, 0)
    const after = await probeUrl(`${engine.url}/health`, { signal: outer.signal })
    assert.equal(!after.ok && after.failure, 'aborted')
  })
})

describe('refreshEngineModels', () => {
  test('one GET /v1/models: same, changed, failed', async (t) => {
    const engine = await startFakeEngine(vllmRoutes())
    t.after(() => engine.close())
    const info: EngineInfo = await discoverEngine(engine.url)
    engine.requests.length = 0
    assert.deepEqual(await refreshEngineModels(info), { status: 'same' })
    assert.deepEqual(engine.requests, ['GET /v1/models'])

    engine.setRoutes({
      '/v1/models': { body: { data: [{ id: 'qwen3-4b-instruct-2507' }, { id: 'my-lora' }] } },
    })
    assert.deepEqual(await refreshEngineModels(info), {
      status: 'changed',
      models: ['qwen3-4b-instruct-2507', 'my-lora'],
    })

    engine.setRoutes({ '/v1/models': { status: 503, body: { error: 'loading' } } })
    const failed = await refreshEngineModels(info)
    assert.equal(failed.status, 'failed')
    assert.match(failed.status === 'failed' ? failed.detail : '', /HTTP 503/)

    engine.setRoutes({ '/v1/models': { body: { data: [] } } })
    assert.equal((await refreshEngineModels(info)).status, 'failed')
  })
})
