import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { parseConfig } from '../../config/index.js'
import { findSamples, parsePrometheusText } from '../../engines/index.js'
import { createGpuCollector, gpuQueryArgs } from '../../gpu/index.js'
import { resolveGpu } from '../../plan/index.js'
import { startProxyService } from '../../server/index.js'
import { gaugeValue, until } from '../../testing/registry-values.js'
import { simulatedNvidiaSmi, startSimulator } from '../index.js'
import type { SimulatorOptions } from '../simulator-types.js'

const BASE: SimulatorOptions = {
  engine: 'vllm',
  model: 'qwen3-4b-instruct-2507',
  gpu: 'rtx-4090d',
  gpuMemoryUtilization: 0.9,
  speed: 100,
  host: '127.0.0.1',
  port: 0,
}
const MIB = 1048576

const post = (url: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

test('load beyond the KV cache: requests wait, the newest are preempted, usage stays <= 1, all finish', async (t) => {
  // 0.45 of a 24 GB card leaves about 10k KV tokens for Qwen3-4B: 30 x (2000 + 400) do not fit.
  const sim = await startSimulator({ ...BASE, gpuMemoryUtilization: 0.45, maxModelLen: 4096 })
  t.after(() => sim.close())
  assert.ok(sim.kvTokenBudget > 4096 && sim.kvTokenBudget < 20_000, String(sim.kvTokenBudget))
  let maxWaiting = 0
  let maxUsage = 0
  let maxGpuUtil = 0
  let maxPowerW = 0
  // utilization.gpu and power.draw: fields 7 and 10 of the collector's query
  const smi = () => sim.gpu.nvidiaSmi(gpuQueryArgs()).trim().split(', ')
  const idlePowerW = Number(smi()[9])
  const poll = setInterval(() => {
    const s = sim.state()
    maxWaiting = Math.max(maxWaiting, s.waiting)
    maxUsage = Math.max(maxUsage, s.kvCacheUsage)
    const row = smi()
    maxGpuUtil = Math.max(maxGpuUtil, Number(row[6]))
    maxPowerW = Math.max(maxPowerW, Number(row[9]))
  }, 2)
  t.after(() => clearInterval(poll))
  const replies = await Promise.all(
    Array.from({ length: 30 }, () =>
      post(`${sim.url}/v1/completions`, {
        model: sim.model,
        prompt: 'abcd'.repeat(2000),
        max_tokens: 400,
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { usage: { completion_tokens: number } },
      })),
    ),
  )
  clearInterval(poll)
  for (const r of replies) {
    assert.equal(r.status, 200)
    assert.equal(r.body.usage.completion_tokens, 400)
  }
  assert.ok(maxWaiting > 0, 'requests waited')
  assert.ok(maxUsage > 0.5 && maxUsage <= 1, `kv usage ${maxUsage}`)
  const state = sim.state()
  assert.ok(state.preemptionsTotal > 0, 'preemptions happened')
  assert.deepEqual([state.running, state.waiting, state.kvCacheUsage], [0, 0, 0])
  assert.equal(maxGpuUtil, 100)
  assert.ok(maxPowerW > idlePowerW * 2, `${maxPowerW} W under load, ${idlePowerW} W idle`)
  assert.equal(smi()[6], '0')
  const m = parsePrometheusText(await (await fetch(`${sim.url}/metrics`)).text())
  const labels = { engine: '0', model_name: sim.model }
  assert.equal(
    findSamples(m, 'vllm:num_preemptions_total', labels)[0]?.value,
    state.preemptionsTotal,
  )
  assert.equal(findSamples(m, 'vllm:generation_tokens_total', labels)[0]?.value, 30 * 400)
  assert.equal(findSamples(m, 'vllm:prompt_tokens_total', labels)[0]?.value, 30 * 2000)
  // Queueing: the mean queue time is well above zero.
  const q = (s: string) => findSamples(m, `vllm:request_queue_time_seconds_${s}`, labels)[0]?.value
  assert.ok((q('sum') as number) / (q('count') as number) > 0.5)
})

test('crash: connections refused, then /health 503 while loading, then 200; counters restart', async (t) => {
  const sim = await startSimulator({ ...BASE, speed: 10 })
  t.after(() => sim.close())
  const ok = await post(`${sim.url}/v1/completions`, { prompt: 'hi', max_tokens: 2 })
  assert.equal(ok.status, 200)
  await ok.json()
  const url = sim.url
  sim.faults.crash(1000) // 1 s simulated: 100 ms
  await until(async () => {
    try {
      await fetch(`${url}/health`)
      return false
    } catch (err) {
      return (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED'
    }
  }, 2000)
  assert.equal(sim.state().up, false)
  const statuses: number[] = []
  await until(async () => {
    try {
      const s = (await fetch(`${url}/health`)).status
      if (statuses.at(-1) !== s) statuses.push(s)
      return s === 200
    } catch {
      return false
    }
  }, 5000)
  assert.deepEqual(statuses, [503, 200])
  assert.equal(sim.url, url)
  assert.equal(sim.state().up, true)
  const m = parsePrometheusText(await (await fetch(`${url}/metrics`)).text())
  assert.equal(findSamples(m, 'vllm:generation_tokens_total')[0]?.value, 0)
})

test('the real GPU collector reads the simulated card; foreign memory adds up; a crash frees the engine’s', async (t) => {
  const sim = await startSimulator({ ...BASE, speed: 1000 })
  t.after(() => sim.close())
  const registry = new Registry()
  const collector = createGpuCollector({
    registry,
    execFile: simulatedNvidiaSmi(sim),
    processes: true,
    intervalMs: 60_000,
  })
  t.after(() => collector.close())
  const total = resolveGpu('rtx-4090d').memoryBytes
  const engineBytes = (Math.round((total / MIB) * 0.9) + 512) * MIB
  const used = async () => {
    await collector.readOnce()
    return gaugeValue(registry, 'hw_gpu_memory_usage_bytes', {})
  }
  const snap = await collector.readOnce()
  assert.equal(snap.gpus[0]?.name, 'NVIDIA GeForce RTX 4090 D')
  assert.equal(await used(), engineBytes)
  assert.equal(await gaugeValue(registry, 'hw_gpu_memory_limit_bytes', {}), total)
  sim.faults.setForeignGpuMemoryBytes(1024 * MIB)
  assert.equal(await used(), engineBytes + 1024 * MIB)
  const apps = (await collector.readOnce()).processes ?? []
  assert.equal(apps.length, 2)
  sim.faults.crash(60_000)
  await until(() => !sim.state().up, 2000)
  assert.equal(await used(), 1024 * MIB)
})

test('the real proxy service in front of the simulator meters its requests and output tokens', async (t) => {
  const sim = await startSimulator({ ...BASE, speed: 50 })
  t.after(() => sim.close())
  const config = parseConfig({
    upstream: sim.url,
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    gpu: { enabled: false },
  })
  const service = await startProxyService(config, {})
  t.after(() => service.close())
  let outputTokens = 0
  const n = 6
  for (let i = 0; i < n; i++) {
    const stream = i % 2 === 0
    const r = await post(`${service.proxyUrl}/v1/chat/completions`, {
      model: sim.model,
      messages: [{ role: 'user', content: `question ${i}` }],
      max_tokens: 5 + i,
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
    })
    assert.equal(r.status, 200)
    const text = await r.text()
    const usage = stream
      ? (JSON.parse(
          (
            text
              .split('\n\n')
              .filter((e) => e.startsWith('data: {'))
              .at(-1) as string
          ).slice(6),
        ) as { usage: { completion_tokens: number } })
      : (JSON.parse(text) as { usage: { completion_tokens: number } })
    outputTokens += usage.usage.completion_tokens
  }
  assert.equal(
    outputTokens,
    [5, 6, 7, 8, 9, 10].reduce((a, b) => a + b),
  )
  const m = parsePrometheusText(await (await fetch(`${service.adminUrl}/metrics`)).text())
  const sum = (name: string, labels: Record<string, string>) =>
    findSamples(m, name, labels).reduce((a, s) => a + s.value, 0)
  assert.equal(sum('gen_ai_server_request_duration_seconds_count', {}), n)
  assert.equal(sum('gen_ai_client_token_usage_sum', { gen_ai_token_type: 'output' }), outputTokens)
  const engine = parsePrometheusText(await (await fetch(`${sim.url}/metrics`)).text())
  assert.equal(findSamples(engine, 'vllm:generation_tokens_total')[0]?.value, outputTokens)
  assert.equal(
    sum('gen_ai_client_token_usage_sum', { gen_ai_token_type: 'input' }),
    findSamples(engine, 'vllm:prompt_tokens_total')[0]?.value,
  )
})

test('--max-num-seqs caps the batch; the rest wait', async (t) => {
  const sim = await startSimulator({ ...BASE, maxNumSeqs: 2 })
  t.after(() => sim.close())
  let maxRunning = 0
  let maxWaiting = 0
  const poll = setInterval(() => {
    const s = sim.state()
    maxRunning = Math.max(maxRunning, s.running)
    maxWaiting = Math.max(maxWaiting, s.waiting)
  }, 1)
  t.after(() => clearInterval(poll))
  const statuses = await Promise.all(
    Array.from({ length: 5 }, () =>
      post(`${sim.url}/v1/completions`, { prompt: 'hello', max_tokens: 200 }).then(async (r) => {
        await r.arrayBuffer()
        return r.status
      }),
    ),
  )
  clearInterval(poll)
  assert.deepEqual(statuses, [200, 200, 200, 200, 200])
  assert.equal(maxRunning, 2)
  assert.ok(maxWaiting >= 1)
})
