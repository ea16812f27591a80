import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { Registry } from 'prom-client'
import { createLogger, isAppError } from '../shared/index.js'
import { REPO_ROOT } from '../testing/index.js'
import { createStandIn, type StandInBehaviour } from '../testing/nvidia-smi-stand-in.js'
import {
  appsQueryArgs,
  createGpuCollector,
  type GpuCollectorOptions,
  gpuQueryArgs,
} from './index.js'

const TESTDATA = join(REPO_ROOT, 'src/gpu/testdata')
const TWO_GPUS = readFileSync(join(TESTDATA, 'two-gpus.csv'), 'utf8')
const APPS = readFileSync(join(TESTDATA, 'apps.csv'), 'utf8')

async function setup(
  t: TestContext,
  behaviour: StandInBehaviour,
  opts: Partial<GpuCollectorOptions> = {},
) {
  const smi = await createStandIn(behaviour)
  const lines: string[] = []
  const registry = new Registry()
  const collector = createGpuCollector({
    registry,
    nvidiaSmiPath: smi.path,
    timeoutMs: 2000,
    logger: createLogger({ level: 'info', write: (l) => lines.push(l) }),
    ...opts,
  })
  t.after(async () => {
    await collector.close()
    await smi.remove()
  })
  const text = () => registry.metrics()
  return { smi, lines, registry, collector, text }
}

function series(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
}

test('exports every hw_gpu_* series per GPU with gpu, hw_id, hw_name labels', async (t) => {
  const { collector, text, smi } = await setup(t, { gpuOut: TWO_GPUS })
  const snap = await collector.readOnce()
  assert.deepEqual(
    snap.gpus.map((g) => g.index),
    [0, 1],
  )
  const out = await text()
  assert.ok(
    out.includes(
      'hw_gpu_memory_usage_bytes{gpu="0",hw_id="GPU-1c9d3f6e-2b4a-4e55-9a61-0d3c2b7f8a10",hw_name="NVIDIA GeForce RTX 4090 D"} 23571988480',
    ),
  )
  assert.ok(
    out.includes(
      'hw_gpu_memory_limit_bytes{gpu="1",hw_id="GPU-8e27a1b4-77c3-4f0e-b2d5-5a9c6e1f3b22",hw_name="NVIDIA GeForce RTX 4090 D"} 25757220864',
    ),
  )
  assert.match(out, /hw_gpu_memory_utilization_ratio\{gpu="0",[^}]*\} 0\.9151\d+/)
  assert.match(out, /hw_gpu_utilization_ratio\{gpu="0",[^}]*\} 0\.97\n/)
  assert.match(out, /hw_gpu_temperature_celsius\{gpu="1",[^}]*\} 34\n/)
  assert.match(out, /hw_gpu_power_draw_watts\{gpu="0",[^}]*\} 402\.18\n/)
  assert.deepEqual(series(out, 'inferwatch_gpu_collector_up'), ['inferwatch_gpu_collector_up 1'])
  // no shell, exact argv: the field list the lead captures with (QUERY.txt)
  assert.deepEqual(await smi.calls(), [gpuQueryArgs()])
})

test('unavailable values are absent series, never 0 (MIG, [Not Supported], N/A, empty)', async (t) => {
  const quirks = readFileSync(join(TESTDATA, 'quirks.csv'), 'utf8')
  const { collector, text } = await setup(t, { gpuOut: quirks })
  const snap = await collector.readOnce()
  assert.equal(snap.gpus[0]?.migEnabled, true)
  const out = await text()
  assert.deepEqual(
    series(out, 'hw_gpu_utilization_ratio'),
    [],
    'MIG [N/A] and [Function Not Found] utilization are absent',
  )
  assert.equal(
    series(out, 'hw_gpu_temperature_celsius').length,
    1,
    'the empty temperature cell is absent',
  )
  assert.equal(series(out, 'hw_gpu_power_draw_watts').length, 1, '[Not Supported] power is absent')
  assert.equal(series(out, 'hw_gpu_memory_usage_bytes').length, 2)
})

test('missing nvidia-smi: collector_up 0, one log line, never throws from the loop', async (t) => {
  const smi = await createStandIn()
  const lines: string[] = []
  const registry = new Registry()
  const collector = createGpuCollector({
    registry,
    nvidiaSmiPath: join(smi.dir, 'does-not-exist'),
    intervalMs: 10,
    logger: createLogger({ write: (l) => lines.push(l) }),
  })
  t.after(async () => {
    await collector.close()
    await smi.remove()
  })
  await assert.rejects(
    collector.readOnce(),
    (e) => isAppError(e, 'GPU_SMI_FAILED') && /not found/.test(e.message),
  )
  collector.start()
  await new Promise((r) => setTimeout(r, 150))
  assert.deepEqual(series(await registry.metrics(), 'inferwatch_gpu_collector_up'), [
    'inferwatch_gpu_collector_up 0',
  ])
  assert.equal(lines.length, 1, lines.join(''))
  assert.match(lines[0] ?? '', /WARN .*nvidia-smi not found.*hint=/)
})

test('failing, garbage-printing and hanging nvidia-smi: up 0, series removed, recovery logged once', async (t) => {
  const { collector, lines, text, smi } = await setup(t, { gpuOut: TWO_GPUS }, { timeoutMs: 1500 })
  await collector.readOnce()
  assert.equal(series(await text(), 'hw_gpu_memory_usage_bytes').length, 2)
  assert.equal(lines.length, 1) // "reading 2 GPU(s)"

  await smi.set({
    gpuOut: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
    gpuExit: 9,
  })
  await assert.rejects(collector.readOnce(), /exited with code 9: NVIDIA-SMI has failed/)
  let out = await text()
  assert.deepEqual(series(out, 'inferwatch_gpu_collector_up'), ['inferwatch_gpu_collector_up 0'])
  assert.deepEqual(series(out, 'hw_gpu_memory_usage_bytes'), [], 'no stale values while down')

  await smi.set({ gpuOut: 'Segmentation fault\nsomething else, entirely\n' })
  await assert.rejects(collector.readOnce(), /cannot read: line 1 has 1 values/)
  await smi.set({ gpuOut: TWO_GPUS.replace('402.18', 'lots') })
  await assert.rejects(collector.readOnce(), /power.draw is "lots", not a number/)
  await smi.set({ hang: true })
  const started = Date.now()
  await assert.rejects(collector.readOnce(), /did not answer within 1500 ms/)
  assert.ok(Date.now() - started < 6000, 'the timeout kills a hung nvidia-smi')
  assert.equal(lines.filter((l) => l.includes('WARN')).length, 1, lines.join(''))

  await smi.set({ gpuOut: TWO_GPUS })
  await collector.readOnce()
  out = await text()
  assert.deepEqual(series(out, 'inferwatch_gpu_collector_up'), ['inferwatch_gpu_collector_up 1'])
  assert.equal(lines.filter((l) => /INFO .*recovered/.test(l)).length, 1)
  await collector.readOnce()
  assert.equal(lines.length, 3, lines.join(''))
})

test('a GPU that disappears has its series removed; a value that becomes N/A too', async (t) => {
  const { collector, text, smi } = await setup(t, { gpuOut: TWO_GPUS })
  await collector.readOnce()
  const [first] = TWO_GPUS.split('\n')
  await smi.set({ gpuOut: `${first?.replace(', 71, ', ', [N/A], ')}\n` })
  await collector.readOnce()
  const out = await text()
  assert.equal(series(out, 'hw_gpu_memory_limit_bytes').length, 1)
  assert.ok(!out.includes('gpu="1"'))
  assert.deepEqual(series(out, 'hw_gpu_temperature_celsius'), [])
})

test('processes: top N by memory, named, bounded; a failing process query does not fail the read', async (t) => {
  const { collector, text, smi, lines } = await setup(
    t,
    { gpuOut: TWO_GPUS, appsOut: APPS },
    { processes: true, maxProcesses: 1 },
  )
  const snap = await collector.readOnce()
  assert.equal(snap.processes?.length, 3)
  assert.equal(snap.processes?.[2]?.processName, 'C:\\Program Files\\App, Inc\\app.exe')
  assert.deepEqual(series(await text(), 'inferwatch_gpu_process_memory_bytes'), [
    'inferwatch_gpu_process_memory_bytes{gpu="0",hw_id="GPU-1c9d3f6e-2b4a-4e55-9a61-0d3c2b7f8a10",pid="4242",process_name="/usr/bin/python3"} 23037214720',
  ])
  assert.deepEqual(await smi.calls(), [gpuQueryArgs(), appsQueryArgs()])
  await smi.set({ gpuOut: TWO_GPUS, appsOut: 'boom', appsExit: 3 })
  const snap2 = await collector.readOnce()
  await collector.readOnce()
  assert.match(snap2.processesError ?? '', /exited with code 3: boom/)
  const out = await text()
  assert.deepEqual(series(out, 'inferwatch_gpu_collector_up'), ['inferwatch_gpu_collector_up 1'])
  assert.deepEqual(series(out, 'inferwatch_gpu_process_memory_bytes'), [])
  assert.equal(lines.filter((l) => /process query failed/.test(l)).length, 1)
})

test('start() polls every interval; close() stops, kills a hung read quickly and unregisters', async (t) => {
  const { collector, smi, registry } = await setup(
    t,
    { gpuOut: TWO_GPUS },
    { intervalMs: 20, timeoutMs: 10_000 },
  )
  collector.start()
  collector.start()
  const deadline = Date.now() + 5000
  while ((await smi.calls()).length < 3 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20))
  assert.ok((await smi.calls()).length >= 3)
  await smi.set({ hang: true })
  await new Promise((r) => setTimeout(r, 80))
  const started = Date.now()
  await collector.close()
  assert.ok(Date.now() - started < 2000, `close took ${Date.now() - started} ms`)
  assert.equal(registry.getSingleMetric('hw_gpu_memory_usage_bytes'), undefined)
  const n = (await smi.calls()).length
  await new Promise((r) => setTimeout(r, 60))
  assert.equal((await smi.calls()).length, n, 'no read after close')
})
