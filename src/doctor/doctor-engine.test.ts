import assert from 'node:assert/strict'
import { createServer as createHttpServer } from 'node:http'
import { describe, test } from 'node:test'
import type { GpuSnapshot } from '../gpu/index.js'
import { AppError } from '../shared/index.js'
import { startScriptedEngine } from '../sim/index.js'
import {
  type FakeRoutes,
  llamacppRoutes,
  readEngineTestdata,
  sglangRoutes,
  startFakeEngine,
  tgiRoutes,
  vllmRoutes,
} from '../testing/fake-engines.js'
import { closedPortUrl, closeServer } from '../testing/index.js'
import { renderDoctorReport } from './render.js'
import { runDoctor } from './run-doctor.js'
import type { DoctorCheck, DoctorOptions, DoctorReport } from './types.js'

function check(report: DoctorReport, id: string): DoctorCheck {
  const c = report.checks.find((x) => x.id === id)
  assert.ok(c, `no check ${id}`)
  return c
}

async function doctorOn(
  routes: FakeRoutes,
  t: { after: (fn: () => Promise<void>) => void },
  extra: Partial<DoctorOptions> = {},
) {
  const engine = await startFakeEngine(routes)
  t.after(() => engine.close())
  return runDoctor({ upstream: engine.url, timeoutMs: 2000, ...extra })
}

const CACHE_LINE = (util: string) =>
  `vllm:cache_config_info{block_size="16",cache_dtype="auto",gpu_memory_utilization="${util}",num_gpu_blocks="6108"} 1.0\nvllm:num_requests_running{engine="0",model_name="m"} 0.0\n`

function snapshot(usedRatio: number): GpuSnapshot {
  const total = 24 * 1024 ** 3
  return {
    takenAtMs: 0,
    gpus: [
      {
        index: 0,
        uuid: 'GPU-1',
        name: 'NVIDIA GeForce RTX 4090 D',
        pciBusId: null,
        driverVersion: null,
        memoryTotalBytes: total,
        memoryUsedBytes: Math.round(total * usedRatio),
        memoryUsedRatio: usedRatio,
        utilizationRatio: 0,
        memoryBusyRatio: 0,
        temperatureCelsius: 40,
        powerDrawWatts: 50,
        powerLimitWatts: 425,
        migEnabled: false,
      },
    ],
  }
}

describe('runDoctor: the engine', () => {
  test('nothing listening: fails with the ps / port / CUDA OOM hint and skips what depends on it', async () => {
    const report = await runDoctor({ upstream: await closedPortUrl(), timeoutMs: 1000 })
    assert.equal(report.ok, false)
    const answers = check(report, 'engine.answers')
    assert.equal(answers.status, 'fail')
    assert.match(answers.finding, /connection refused/)
    assert.match(answers.fix ?? '', /ps aux/)
    assert.match(answers.fix ?? '', /CUDA out of memory/)
    assert.match(answers.fix ?? '', /Failed to load model/)
    for (const id of ['engine.identified', 'engine.metrics', 'engine.completion'])
      assert.equal(check(report, id).status, 'skip')
    assert.equal(report.engine, undefined)
  })

  test('connection refused, but an engine answers on a usual port (llama.cpp 9931): says so', async (t) => {
    const server = createHttpServer((_req, res) => res.end('{"status":"ok"}'))
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false))
      server.listen(9931, '127.0.0.1', () => resolve(true))
    })
    if (!listening) return t.skip('port 9931 is in use on this host')
    t.after(() => closeServer(server))
    const report = await runDoctor({ upstream: await closedPortUrl(), timeoutMs: 1000 })
    assert.match(
      check(report, 'engine.answers').fix ?? '',
      /an engine answers at http:\/\/127\.0\.0\.1:9931: pass that as --upstream/,
    )
  })

  test('503 while loading: fails with "still loading", no completion attempted', async (t) => {
    const report = await doctorOn(llamacppRoutes({ loading: true }), t)
    const answers = check(report, 'engine.answers')
    assert.equal(answers.status, 'fail')
    assert.match(answers.finding, /still loading/)
    assert.equal(check(report, 'engine.completion').status, 'skip')
    assert.equal(report.ok, false)
  })

  test('engine alive but unhealthy (503 without loading): fail', async (t) => {
    const report = await doctorOn(
      {
        ...tgiRoutes(),
        '/health': { status: 503, body: { error: 'unhealthy', error_type: 'healthcheck' } },
      },
      t,
    )
    assert.equal(check(report, 'engine.answers').status, 'fail')
    assert.match(check(report, 'engine.answers').fix ?? '', /restart/)
  })

  test('healthy vLLM (scripted engine): identified, /metrics, a timed 1-token completion', async (t) => {
    const engine = await startScriptedEngine({
      promptTokens: 1,
      firstTokenMs: 5,
      interTokenMs: 1,
      maxModelLen: 32768,
    })
    t.after(() => engine.close())
    const report = await runDoctor({ upstream: engine.url, timeoutMs: 2000 })
    assert.equal(check(report, 'engine.answers').status, 'pass')
    const id = check(report, 'engine.identified')
    assert.equal(id.status, 'pass')
    assert.match(
      id.finding,
      /^vLLM 0\.11\.0; model qwen3-4b-instruct-2507; max context 32768 tokens$/,
    )
    assert.equal(check(report, 'engine.metrics').status, 'pass')
    const completion = check(report, 'engine.completion')
    assert.equal(completion.status, 'pass')
    assert.match(
      completion.finding,
      /^POST \/v1\/completions \(model qwen3-4b-instruct-2507\) answered in \d+ ms, 1 output token\(s\)$/,
    )
    const posted = engine.requests.find((r) => r.method === 'POST')
    assert.deepEqual(JSON.parse(posted?.body.toString('utf8') ?? '{}').max_tokens, 1)
    assert.equal(report.ok, true)
  })

  test('a failing completion is a failure with the engine error shown', async (t) => {
    const report = await doctorOn(
      {
        ...vllmRoutes(),
        'POST /v1/completions': {
          status: 500,
          body: { error: { message: 'CUDA error: out of memory' } },
        },
      },
      t,
    )
    const c = check(report, 'engine.completion')
    assert.equal(c.status, 'fail')
    assert.match(c.finding, /HTTP 500 .*CUDA error: out of memory/)
  })

  test('an engine behind --api-key: 401 explained; with the key the completion passes', async (t) => {
    const guarded = (req: { headers: Record<string, string | string[] | undefined> }) =>
      req.headers.authorization === 'Bearer sk-test'
        ? { body: { choices: [{ text: ' ok' }], usage: { completion_tokens: 1 } } }
        : { status: 401, body: { error: 'Unauthorized' } }
    const engine = await startFakeEngine({
      ...vllmRoutes({ maxModelLen: 65536 }),
      'POST /v1/completions': guarded,
    })
    t.after(() => engine.close())
    const without = await runDoctor({ upstream: engine.url, timeoutMs: 2000 })
    assert.match(check(without, 'engine.completion').fix ?? '', /INFERWATCH_API_KEY/)
    const withKey = await runDoctor({ upstream: engine.url, timeoutMs: 2000, apiKey: 'sk-test' })
    assert.equal(check(withKey, 'engine.completion').status, 'pass')
  })

  test("vLLM's demo api_server (/health and /generate only): not OpenAI-compatible, run `vllm serve`", async (t) => {
    const report = await doctorOn(
      { '/health': { body: '' }, 'POST /generate': { body: { text: ['x'] } } },
      t,
    )
    assert.equal(check(report, 'engine.identified').status, 'warn')
    const c = check(report, 'engine.completion')
    assert.equal(c.status, 'fail')
    assert.match(c.fix ?? '', /vllm serve/)
  })

  const metricsCases: [string, FakeRoutes, RegExp][] = [
    ['SGLang without --enable-metrics', sglangRoutes({ metrics: null }), /--enable-metrics/],
    [
      'llama.cpp without --metrics (501)',
      llamacppRoutes({ metrics: null }),
      /restart llama-server with --metrics/,
    ],
    [
      'vLLM with --disable-log-stats',
      vllmRoutes({ metrics: readEngineTestdata('vllm-no-log-stats.prom') }),
      /--disable-log-stats/,
    ],
    [
      'vLLM demo-like server without /metrics',
      vllmRoutes({ metrics: null }),
      /no --enable-metrics or --metrics-export-port/,
    ],
    [
      'TGI answering 404 on /metrics',
      { ...tgiRoutes(), '/metrics': { status: 404, body: 'nope' } },
      /no --metrics-exporter flag/,
    ],
  ]
  for (const [name, routes, fix] of metricsCases) {
    test(`/metrics: ${name}`, async (t) => {
      const report = await doctorOn(routes, t)
      const c = check(report, 'engine.metrics')
      assert.equal(c.status, 'fail')
      assert.match(c.fix ?? '', fix)
      assert.equal(report.ok, false)
    })
  }
})

describe('runDoctor: GPU memory and KV capacity', () => {
  test('alert threshold below the reserved gpu_memory_utilization: fail', async (t) => {
    const report = await doctorOn(
      vllmRoutes({ metrics: CACHE_LINE('0.95'), maxModelLen: 65536 }),
      t,
      {
        gpuMemoryAlertRatio: 0.92,
      },
    )
    const c = check(report, 'gpu.memory-threshold')
    assert.equal(c.status, 'fail')
    assert.match(c.finding, /fires above 92%.*reserves 95%.*fire all the time/)
    assert.match(c.fix ?? '', /alerts\.gpuMemoryHigh\.ratio to at least 0\.97/)
  })

  test('threshold needs 2 points over the fraction for the CUDA context (as `inferwatch rules`)', async (t) => {
    const at = async (util: string) =>
      check(
        await doctorOn(vllmRoutes({ metrics: CACHE_LINE(util), maxModelLen: 65536 }), t, {
          gpuMemoryAlertRatio: 0.92,
        }),
        'gpu.memory-threshold',
      ).status
    assert.equal(await at('0.91'), 'fail')
    assert.equal(await at('0.9'), 'pass')
    assert.equal(await at('0.85'), 'pass')
  })

  test('vLLM without cache_config_info: the configured gpuMemoryUtilization is used', async (t) => {
    const report = await doctorOn(vllmRoutes({ metrics: 'vllm:num_requests_running 0\n' }), t, {
      gpuMemoryAlertRatio: 0.92,
      gpuMemoryUtilization: 0.92,
    })
    const c = check(report, 'gpu.memory-threshold')
    // The config's fraction is a claim, not a measurement: a warning, not a failure.
    assert.equal(c.status, 'warn')
    assert.match(c.finding, /config gpuMemoryUtilization/)
    assert.match(c.fix ?? '', /set gpuMemoryUtilization in the config to match/)
  })

  test('KV capacity reported by vLLM vs max_model_len', async (t) => {
    const fits = await doctorOn(vllmRoutes({ maxModelLen: 65536 }), t)
    const ok = check(fits, 'engine.kv-capacity')
    assert.equal(ok.status, 'pass')
    assert.match(
      ok.finding,
      /^97728 KV tokens \(reported by the engine\) vs max context 65536: 1 max-length/,
    )
    const tooLong = await doctorOn(vllmRoutes({ maxModelLen: 262144 }), t)
    const bad = check(tooLong, 'engine.kv-capacity')
    assert.equal(bad.status, 'fail')
    assert.match(bad.fix ?? '', /--max-model-len 97280/)
  })

  test('KV capacity from an estimate when the engine reports none', async (t) => {
    const report = await doctorOn(llamacppRoutes(), t, {
      estimateKv: (engine) =>
        engine.maxModelLen === 8192 ? { kvTokens: 4096, source: 'test estimate' } : undefined,
    })
    const c = check(report, 'engine.kv-capacity')
    assert.equal(c.status, 'fail')
    assert.match(c.finding, /4096 KV tokens \(test estimate\) vs max context 8192/)
  })

  test('KV capacity from the plan estimate: Qwen3-4B at 262144 tokens cannot fit on a 24 GB card', async (t) => {
    const noCacheInfo = 'vllm:num_requests_running{model_name="m"} 0\n'
    const card = snapshot(0.9)
    const gpu = card.gpus[0]
    assert.ok(gpu)
    gpu.memoryTotalBytes = 24564 * 1024 * 1024
    const long = await doctorOn(vllmRoutes({ metrics: noCacheInfo, maxModelLen: 262144 }), t, {
      readGpu: async () => card,
      gpuMemoryUtilization: 0.9,
      gpuMemoryAlertRatio: 0.95,
    })
    const c = check(long, 'engine.kv-capacity')
    assert.equal(c.status, 'fail')
    const kv = Number(/^(\d+) KV tokens/.exec(c.finding)?.[1])
    // 24 GB x 0.9 less 7.49 GiB of bf16 weights leaves at most 14.1 GiB for the KV cache; at
    // 144 KiB per token (vLLM's page size, vllm/v1/kv_cache_interface.py in
    // https://github.com/vllm-project/vllm) that is about 90K-100K tokens.
    assert.ok(kv > 80_000 && kv < 105_000, c.finding)
    assert.match(
      c.finding,
      /plan estimate: qwen3-4b-instruct-2507 on NVIDIA GeForce RTX 4090 D \(24\.0 GiB\) at gpu_memory_utilization 0\.9/,
    )
    const short = await doctorOn(vllmRoutes({ metrics: noCacheInfo, maxModelLen: 32768 }), t, {
      readGpu: async () => card,
      gpuMemoryUtilization: 0.9,
    })
    assert.equal(check(short, 'engine.kv-capacity').status, 'pass')
  })

  test('GPUs: listed, above the threshold now, or nvidia-smi missing', async (t) => {
    const engine = await startFakeEngine(vllmRoutes({ maxModelLen: 65536 }))
    t.after(() => engine.close())
    const base = { upstream: engine.url, timeoutMs: 2000, gpuMemoryAlertRatio: 0.95 }
    const fine = await runDoctor({ ...base, readGpu: async () => snapshot(0.9) })
    const gpu = check(fine, 'gpu.visible')
    assert.equal(gpu.status, 'pass')
    assert.equal(gpu.finding, 'GPU 0 NVIDIA GeForce RTX 4090 D: 21.6 of 24.0 GiB used')
    const hot = await runDoctor({ ...base, readGpu: async () => snapshot(0.97) })
    assert.equal(check(hot, 'gpu.visible').status, 'warn')
    const missing = await runDoctor({
      ...base,
      readGpu: async () => {
        throw new AppError('GPU_SMI_FAILED', 'nvidia-smi not found: nvidia-smi')
      },
    })
    const m = check(missing, 'gpu.visible')
    assert.equal(m.status, 'warn')
    assert.match(m.finding, /nvidia-smi not found/)
    assert.equal(missing.ok, true)
  })
})

describe('renderDoctorReport', () => {
  test('marks, fixes under failures and warnings only, and the tally', () => {
    const text = renderDoctorReport({
      ok: false,
      upstream: 'http://e:8000',
      counts: { pass: 1, warn: 1, fail: 1, skip: 1 },
      checks: [
        { id: 'a', title: 'alpha', status: 'pass', finding: 'fine', fix: 'never shown' },
        { id: 'b', title: 'beta ok', status: 'fail', finding: 'broken', fix: 'do X' },
        { id: 'c', title: 'gamma', status: 'warn', finding: 'meh', fix: 'do Y' },
        { id: 'd', title: 'delta', status: 'skip', finding: 'n/a' },
      ],
    })
    assert.equal(
      text,
      [
        'inferwatch doctor — http://e:8000',
        '',
        '✓ alpha    fine',
        '✗ beta ok  broken',
        '    fix: do X',
        '! gamma    meh',
        '    fix: do Y',
        '- delta    n/a',
        '',
        '1 passed, 1 warning(s), 1 failed, 1 skipped',
        '',
      ].join('\n'),
    )
  })
})
