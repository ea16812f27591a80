import assert from 'node:assert/strict'
import { request } from 'node:http'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { discoverEngine, parsePrometheusText } from '../engines/index.js'
import { createGpuCollector, readGpuSnapshot } from '../gpu/index.js'
import { resolveGpu } from '../plan/index.js'
import { createLogger } from '../shared/index.js'
import { gaugeValue } from '../testing/registry-values.js'
import {
  type EngineSimulator,
  type EngineSimulatorOptions,
  type SimEngine,
  simulatedNvidiaSmi,
  startSimulator,
} from './index.js'

// The card as the GPU collector sees it, through its own nvidia-smi parse code: the engine's
// pre-allocation (gpu_memory_utilization x memory.total, plus the CUDA context) from the first
// second, utilization and power that follow the batch, another process's leak in
// --query-compute-apps; and the engine's faults: a crash refuses connections, then the engine
// loads (/health 503, with llama.cpp's "Loading model" body), then answers with fresh counters.

const MIB = 1048576
const CONTEXT_MIB = 500
/** The driver's own share once a context exists (every H200 capture in src/gpu/testdata). */
const DRIVER_MIB = 9

const base = (over: Partial<EngineSimulatorOptions> = {}): EngineSimulatorOptions => ({
  engine: 'vllm',
  model: 'qwen3-4b-instruct-2507',
  gpu: 'h200',
  gpuMemoryUtilization: 0.9,
  speed: 10,
  host: '127.0.0.1',
  port: 0,
  ...over,
})

/** GET that resolves the status, or the error code when the connection fails. */
function probe(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
    req.end()
  })
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = performance.now() + ms
  for (;;) {
    const v = await f()
    if (v !== undefined) return v
    if (performance.now() > end) throw new Error(`${what}: not in ${ms} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

test('the GPU collector reads the simulated card: pre-allocation, a foreign leak, load, a crash', async (t) => {
  const sim = await startSimulator(base({ speed: 5 }))
  t.after(() => sim.close())
  const registry = new Registry()
  const collector = createGpuCollector({
    registry,
    execFile: simulatedNvidiaSmi(sim),
    processes: true,
    logger: createLogger({ write: () => {} }),
  })
  t.after(() => collector.close())
  const totalMib = resolveGpu('h200').memoryBytes / MIB
  const engineMib = Math.round(0.9 * totalMib + CONTEXT_MIB)

  const idle = await collector.readOnce()
  const g = idle.gpus[0]
  assert.equal(g?.name, 'NVIDIA H200')
  assert.equal(g?.memoryTotalBytes, totalMib * MIB)
  assert.equal(g?.memoryUsedBytes, (engineMib + DRIVER_MIB) * MIB)
  assert.equal(g?.utilizationRatio, 0)
  assert.equal(g?.powerDrawWatts, 134.23)
  assert.deepEqual(
    idle.processes?.map((p) => [p.processName, p.usedMemoryBytes]),
    [['VLLM::EngineCore', engineMib * MIB]],
  )
  const labels = { gpu: '0', hw_id: g?.uuid ?? '', hw_name: 'NVIDIA H200' }
  assert.equal(
    await gaugeValue(registry, 'hw_gpu_memory_usage_bytes', labels),
    (engineMib + DRIVER_MIB) * MIB,
  )

  // Another process leaks 6 GiB: it shows in memory.used and as its own process.
  sim.faults.setForeignGpuMemoryBytes(6 * 1024 * MIB)
  const leak = await collector.readOnce()
  assert.equal(leak.gpus[0]?.memoryUsedBytes, (engineMib + 6144 + DRIVER_MIB) * MIB)
  assert.deepEqual(
    leak.processes?.map((p) => [p.processName, p.usedMemoryBytes]),
    [
      ['VLLM::EngineCore', engineMib * MIB],
      ['python3', 6144 * MIB],
    ],
  )

  // Under load: utilization and power follow the batch.
  const body = JSON.stringify({
    model: sim.model,
    prompt: Array.from({ length: 4000 }, (_, i) => i + 5),
    max_tokens: 400,
  })
  const load = Promise.all(
    Array.from({ length: 8 }, () =>
      fetch(`${sim.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }).then((r) => r.arrayBuffer()),
    ),
  )
  // Read as a poller would, every 50 ms until the batch is over; the busiest read counts. On a
  // loaded machine the simulator's steps can trail the wall clock and then catch up, so reads at
  // fixed moments may all fall in gaps (a clean-clone run once saw 0 % in eleven reads).
  let over = false
  const done = load.then(() => {
    over = true
  })
  const reads: { util: number; power: number }[] = []
  while (!over) {
    const r = await collector.readOnce()
    reads.push({ util: r.gpus[0]?.utilizationRatio ?? 0, power: r.gpus[0]?.powerDrawWatts ?? 0 })
    await new Promise((res) => setTimeout(res, 50))
  }
  await done
  const busiest = reads.reduce((a, b) => (b.util > a.util ? b : a), { util: 0, power: 0 })
  assert.ok(busiest.util >= 0.9, `utilization ${JSON.stringify(reads)}`)
  assert.ok(busiest.power > 300, `power ${busiest.power}`)

  // The engine dies: its memory is freed, the leak stays.
  sim.faults.crash(60_000)
  const down = await collector.readOnce()
  assert.equal(down.gpus[0]?.memoryUsedBytes, (6144 + DRIVER_MIB) * MIB)
  assert.deepEqual(
    down.processes?.map((p) => p.processName),
    ['python3'],
  )
  assert.equal(down.gpus[0]?.utilizationRatio, 0)
  // With header and units (`--format=csv`) the same parser reads the same figures.
  const exec = simulatedNvidiaSmi(sim)
  const withUnits: typeof exec = (f, args, o) =>
    exec(
      f,
      args.map((a) => (a.startsWith('--format') ? '--format=csv' : a)),
      o,
    )
  const snap = await readGpuSnapshot({ execFile: withUnits, processes: true })
  assert.equal(snap.gpus[0]?.memoryUsedBytes, (6144 + DRIVER_MIB) * MIB)
  assert.match(
    sim.gpu.nvidiaSmi(['--query-gpu=memory.used,power.draw', '--format=csv']),
    /^memory\.used \[MiB\], power\.draw \[W\]\n6153 MiB, \d+\.\d\d W\n$/,
  )
  // An unknown field fails like nvidia-smi: exit 2, its message on stdout.
  await assert.rejects(
    exec('nvidia-smi', ['--query-gpu=bogus', '--format=csv'], {
      timeoutMs: 1000,
      maxBufferBytes: 1e6,
    }),
    (err: { code?: unknown; stdout?: string }) =>
      err.code === 2 && /not a valid field/.test(err.stdout ?? ''),
  )
})

async function crashCycle(engine: SimEngine, t: { after(f: () => Promise<void>): void }) {
  const sim: EngineSimulator = await startSimulator(base({ engine, speed: 10, loadingMs: 10_000 }))
  t.after(() => sim.close())
  const path =
    engine === 'tgi' ? '/generate' : engine === 'llamacpp' ? '/completion' : '/v1/completions'
  const body =
    engine === 'tgi'
      ? { inputs: 'hi', parameters: { max_new_tokens: 2 } }
      : engine === 'llamacpp'
        ? { prompt: [1, 2], n_predict: 2 }
        : { model: sim.model, prompt: [1, 2], max_tokens: 2 }
  const ask = async () => {
    const r = await fetch(`${sim.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    await r.arrayBuffer()
    return r.status
  }
  assert.equal(await ask(), 200)
  const before = await (await fetch(`${sim.url}/metrics`)).text()
  sim.faults.crash(2000)
  assert.equal(await probe(`${sim.url}/health`), 'ECONNREFUSED')
  assert.deepEqual(sim.state(), {
    running: 0,
    waiting: 0,
    kvCacheUsage: 0,
    preemptionsTotal: 0,
    up: false,
    phase: 'down',
  })
  await waitFor('loading', async () =>
    (await probe(`${sim.url}/health`)) === 503 ? true : undefined,
  )
  assert.equal(sim.state().phase, 'loading')
  const loading = await fetch(`${sim.url}/health`)
  const loadingBody = await loading.text()
  const loadingHealth = (await discoverEngine(sim.url)).health.status
  assert.equal(
    (await fetch(`${sim.url}${path}`, { method: 'POST', body: JSON.stringify(body) })).status,
    503,
  )
  await waitFor('ready', async () =>
    (await probe(`${sim.url}/health`)) === 200 ? true : undefined,
  )
  assert.equal(sim.state().up, true)
  const after = await (await fetch(`${sim.url}/metrics`)).text()
  return { sim, ask, before, after, loadingBody, loadingHealth }
}

test('vLLM crash: refused, /health 503 while loading, 200; counters start again from zero', async (t) => {
  const { ask, before, after } = await crashCycle('vllm', t)
  const count = (text: string) =>
    parsePrometheusText(text)
      .samples.filter((s) => s.name === 'vllm:request_success_total')
      .reduce((a, s) => a + s.value, 0)
  assert.equal(count(before), 1)
  assert.equal(count(after), 0)
  assert.equal(await ask(), 200)
})

test('llama.cpp crash: while loading, /health says "Loading model" and discovery reads it as loading', async (t) => {
  const { sim, loadingBody, loadingHealth, after } = await crashCycle('llamacpp', t)
  assert.equal(loadingHealth, 'loading')
  assert.deepEqual(JSON.parse(loadingBody), {
    error: { code: 503, message: 'Loading model', type: 'unavailable_error' },
  })
  assert.match(after, /^llamacpp:tokens_predicted_total 0$/m)
  const info = await discoverEngine(sim.url)
  assert.equal(info.health.status, 'ok')
})

test('discovery identifies every simulated engine, its model, context and KV capacity', async (t) => {
  for (const engine of ['vllm', 'sglang', 'tgi', 'llamacpp'] as const) {
    const sim = await startSimulator(base({ engine, gpu: 'l40s', gpuMemoryUtilization: 0.85 }))
    t.after(() => sim.close())
    const info = await discoverEngine(sim.url)
    assert.equal(info.provider, engine, info.evidence.join('; '))
    assert.deepEqual(info.models, [sim.model], engine)
    assert.equal(info.maxModelLen, sim.maxModelLen, engine)
    assert.equal(info.health.status, 'ok', engine)
    assert.ok(info.metrics.served, engine)
    if (engine === 'vllm' || engine === 'sglang') {
      assert.equal(info.kvCacheTokens, sim.kvTokenBudget, engine)
      assert.equal(info.gpuMemoryUtilization, 0.85, engine)
    }
    if (engine !== 'llamacpp') assert.equal(info.version, sim.engineVersion, engine)
  }
})
