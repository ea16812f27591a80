import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Registry } from 'prom-client'
import { isAppError } from '../shared/index.js'
import { startScriptedEngine } from '../sim/index.js'
import {
  llamacppRoutes,
  readEngineTestdata,
  sglangRoutes,
  startFakeEngine,
  tgiRoutes,
  vllmRoutes,
} from '../testing/fake-engines.js'
import { closedPortUrl, readSharedFixture, SHARED_SKIP } from '../testing/index.js'
import { discoverEngine, normalizeBaseUrl } from './discover.js'
import { registerEngineInfo } from './engine-info-metric.js'

describe('discoverEngine', () => {
  test('vLLM: models, max_model_len, version, gpu_memory_utilization, KV tokens', async (t) => {
    const engine = await startFakeEngine(vllmRoutes())
    t.after(() => engine.close())
    const info = await discoverEngine(`${engine.url}/v1/`)
    assert.equal(info.provider, 'vllm')
    assert.equal(info.identified, true)
    assert.equal(info.baseUrl, engine.url)
    assert.deepEqual(info.models, ['qwen3-4b-instruct-2507'])
    assert.equal(info.modelPath, 'Qwen/Qwen3-4B-Instruct-2507')
    assert.equal(info.maxModelLen, 262144)
    assert.equal(info.version, '0.10.0')
    assert.equal(info.gpuMemoryUtilization, 0.9)
    assert.equal(info.kvCacheTokens, 6108 * 16)
    assert.deepEqual(info.metrics, {
      served: true,
      path: '/metrics',
      url: `${engine.url}/metrics`,
      prefixes: ['vllm:'],
      httpStatus: 200,
    })
    assert.equal(info.health.status, 'ok')
  })

  test('vLLM with --disable-log-stats: /metrics served without vllm: families, still identified', async (t) => {
    const engine = await startFakeEngine(
      vllmRoutes({ metrics: readEngineTestdata('vllm-no-log-stats.prom') }),
    )
    t.after(() => engine.close())
    const info = await discoverEngine(engine.url)
    assert.equal(info.provider, 'vllm')
    assert.equal(info.metrics.served, true)
    assert.deepEqual(info.metrics.prefixes, [])
    assert.equal(info.gpuMemoryUtilization, undefined)
  })

  for (const name of [
    'vllm-0.10.0-production-stack-issue617.prom',
    'vllm-v1-early-production-stack-issue318.prom',
  ]) {
    const text = readSharedFixture(`engines/${name}`)
    test(`vLLM serving the real capture ${name}`, {
      skip: text ? false : SHARED_SKIP,
    }, async (t) => {
      const engine = await startFakeEngine(vllmRoutes({ metrics: text ?? '' }))
      t.after(() => engine.close())
      const info = await discoverEngine(engine.url)
      assert.equal(info.provider, 'vllm')
      assert.deepEqual(info.metrics.prefixes, ['vllm:'])
    })
  }

  test('TGI: /info gives model, max_total_tokens and version', async (t) => {
    const engine = await startFakeEngine(tgiRoutes())
    t.after(() => engine.close())
    const info = await discoverEngine(engine.url)
    assert.equal(info.provider, 'tgi')
    assert.deepEqual(info.models, ['Qwen/Qwen3-4B-Instruct-2507'])
    assert.equal(info.maxModelLen, 32768)
    assert.equal(info.version, '3.3.6')
    assert.deepEqual(info.metrics.prefixes, ['tgi_'])
  })

  const sglText = readSharedFixture('engines/sglang-docs-production_metrics-00b08c49.prom')
  test('SGLang with --enable-metrics (real capture as /metrics)', {
    skip: sglText ? false : SHARED_SKIP,
  }, async (t) => {
    const engine = await startFakeEngine(sglangRoutes({ metrics: sglText ?? '' }))
    t.after(() => engine.close())
    const info = await discoverEngine(engine.url)
    assert.equal(info.provider, 'sglang')
    assert.equal(info.maxModelLen, 32768)
    assert.equal(info.version, '0.4.9')
    assert.equal(info.gpuMemoryUtilization, 0.88)
    assert.equal(info.kvCacheTokens, 150000)
    assert.equal(info.metrics.served, true)
    assert.ok(info.metrics.prefixes.includes('sglang:'))
  })

  test('SGLang without --enable-metrics: identified, /metrics 404 not served', async (t) => {
    const engine = await startFakeEngine(sglangRoutes({ metrics: null }))
    t.after(() => engine.close())
    const info = await discoverEngine(engine.url)
    assert.equal(info.provider, 'sglang')
    assert.equal(info.metrics.served, false)
    assert.equal(info.metrics.httpStatus, 404)
  })

  const llamaText = readSharedFixture('engines/llamacpp-pr13196-comment-2025-06.prom')
  test('llama.cpp with --metrics (real capture): n_ctx from /props, build as version', async (t) => {
    const engine = await startFakeEngine(llamacppRoutes(llamaText ? { metrics: llamaText } : {}))
    t.after(() => engine.close())
    const info = await discoverEngine(engine.url)
    assert.equal(info.provider, 'llamacpp')
    assert.deepEqual(info.models, ['Qwen3-4B-Instruct-2507-Q4_K_M.gguf'])
    assert.equal(info.modelPath, '/models/Qwen3-4B-Instruct-2507-Q4_K_M.gguf')
    assert.equal(info.maxModelLen, 8192)
    assert.equal(info.version, 'b6123-0123abcd')
    assert.deepEqual(info.metrics.prefixes, ['llamacpp:'])
  })

  test('llama.cpp without --metrics: 501 explained', async (t) => {
    const engine = await startFakeEngine(llamacppRoutes({ metrics: null }))
    t.after(() => engine.close())
    const info = await discoverEngine(engine.url)
    assert.equal(info.metrics.served, false)
    assert.equal(info.metrics.httpStatus, 501)
    assert.match(info.metrics.detail ?? '', /--metrics/)
  })

  test('llama.cpp 503 while loading: identified, health loading', async (t) => {
    const engine = await startFakeEngine(llamacppRoutes({ loading: true }))
    t.after(() => engine.close())
    const info = await discoverEngine(engine.url)
    assert.equal(info.provider, 'llamacpp')
    assert.equal(info.health.status, 'loading')
    assert.equal(info.health.httpStatus, 503)
    assert.deepEqual(info.models, [])
  })

  test('generic OpenAI-compatible server: provider openai, not identified', async (t) => {
    const engine = await startFakeEngine({
      '/v1/models': {
        body: { object: 'list', data: [{ id: 'gpt-x', object: 'model', owned_by: 'someone' }] },
      },
    })
    t.after(() => engine.close())
    const info = await discoverEngine(engine.url)
    assert.equal(info.provider, 'openai')
    assert.equal(info.identified, false)
    assert.deepEqual(info.models, ['gpt-x'])
    assert.equal(info.health.status, 'ok')
    assert.equal(info.metrics.served, false)
  })

  test('garbage bodies match nothing and never throw', async (t) => {
    const html = { body: '<html>hello</html>', contentType: 'text/html' }
    const engine = await startFakeEngine({
      '/health': { status: 500, body: 'boom' },
      '/v1/models': { body: { data: 'nope' } },
      '/version': { body: { version: 7 } },
      '/info': { body: { model_id: 'x', max_total_tokens: 'many' } },
      '/props': html,
      '/metrics': html,
    })
    t.after(() => engine.close())
    const info = await discoverEngine(engine.url)
    assert.equal(info.provider, 'openai')
    assert.equal(info.identified, false)
    assert.deepEqual(info.models, [])
    assert.equal(info.health.status, 'unhealthy')
    assert.equal(info.metrics.served, false)
    assert.match(info.metrics.detail ?? '', /not Prometheus text/)
  })

  test('connection refused: ENGINE_UNREACHABLE with the ps/log hint', async () => {
    const url = await closedPortUrl()
    await assert.rejects(discoverEngine(url, { timeoutMs: 1000 }), (err) => {
      return (
        isAppError(err, 'ENGINE_UNREACHABLE') &&
        /connection refused/.test(err.message) &&
        /CUDA out of memory/.test(err.hint ?? '')
      )
    })
  })

  test('a hung engine times out per probe', async (t) => {
    const engine = await startFakeEngine({})
    const hung = { body: '', delayMs: 5000 }
    engine.setRoutes({ '/health': hung, '/v1/models': hung, '/metrics': hung })
    t.after(() => engine.close())
    const started = performance.now()
    // The other probes answer 404: reachable, nothing identified, health unhealthy (timeout).
    const info = await discoverEngine(engine.url, { timeoutMs: 200 })
    assert.ok(performance.now() - started < 3000)
    assert.equal(info.health.status, 'unhealthy')
    assert.match(info.health.detail, /no answer within 200 ms/)
  })

  for (const flavor of ['vllm', 'tgi', 'sglang', 'llamacpp'] as const) {
    test(`the scripted engine as ${flavor} is identified as ${flavor}`, async (t) => {
      const engine = await startScriptedEngine({ flavor, maxModelLen: 40960, servedModels: ['m1'] })
      t.after(() => engine.close())
      const info = await discoverEngine(engine.url)
      assert.equal(info.provider, flavor)
      assert.equal(info.maxModelLen, 40960)
      assert.deepEqual(info.models, ['m1'])
    })
  }

  test('rejects a non-http URL', () => {
    assert.throws(
      () => normalizeBaseUrl('ftp://x'),
      (err) => isAppError(err, 'UPSTREAM_URL_INVALID'),
    )
  })
})

describe('registerEngineInfo', () => {
  test('exports one series per model and clears', async (t) => {
    const engine = await startFakeEngine(vllmRoutes())
    t.after(() => engine.close())
    const info = await discoverEngine(engine.url)
    const registry = new Registry()
    const metric = registerEngineInfo(registry)
    metric.set(info)
    const text = await registry.metrics()
    assert.match(
      text,
      /^inferwatch_engine_info\{engine="vllm",version="0\.10\.0",model="qwen3-4b-instruct-2507",max_model_len="262144"\} 1$/m,
    )
    metric.set({ ...info, models: ['a', 'b'] })
    assert.equal((await registry.metrics()).match(/^inferwatch_engine_info\{/gm)?.length, 2)
    metric.clear()
    assert.doesNotMatch(await registry.metrics(), /^inferwatch_engine_info\{/m)
  })
})
