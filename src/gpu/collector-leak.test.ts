import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { Registry } from 'prom-client'
import { createLogger } from '../shared/index.js'
import { createStandIn, type StandIn } from '../testing/nvidia-smi-stand-in.js'
import { nodeExecFile } from './_exec.js'
import { createGpuCollector, type ExecFileFn } from './index.js'

// A host without a working GPU polls a missing or failing nvidia-smi forever: each read must
// leave nothing behind — no 'abort' listener on the collector's signal (node warns at 11:
// MaxListenersExceededWarning), no timer, no handle.

const CYCLES = 40

interface Sample {
  listeners: number
  resources: Map<string, number>
}

function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>()
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1)
  return counts
}

async function pollFor(t: TestContext, smi: StandIn, nvidiaSmiPath: string) {
  const warnings: Error[] = []
  const onWarning = (w: Error) => warnings.push(w)
  process.on('warning', onWarning)
  t.after(() => {
    process.off('warning', onWarning)
  })
  const signals = new Set<AbortSignal>()
  const samples: Sample[] = []
  let done: () => void = () => {}
  const finished = new Promise<void>((r) => {
    done = r
  })
  // The real runner (node's execFile), watched: the signal it is handed, and after each run the
  // listeners left on it and the process's active resources.
  const execFile: ExecFileFn = async (file, args, options) => {
    if (options.signal) signals.add(options.signal)
    try {
      return await nodeExecFile(file, args, options)
    } finally {
      // After the callers' own continuations of this run, before the next one starts.
      setImmediate(() => {
        const signal = options.signal
        samples.push({
          listeners: signal ? getEventListeners(signal, 'abort').length : 0,
          resources: resourceCounts(),
        })
        if (samples.length === CYCLES) done()
      })
    }
  }
  const collector = createGpuCollector({
    registry: new Registry(),
    nvidiaSmiPath,
    intervalMs: 1,
    timeoutMs: 2000,
    execFile,
    logger: createLogger({ write: () => {} }),
  })
  t.after(async () => {
    await collector.close()
    await smi.remove()
  })
  // The collector's timer is unref'd (it never holds a process open): this one keeps the test's.
  const keepAlive = setInterval(() => {}, 1000)
  collector.start()
  await finished
  clearInterval(keepAlive)
  await collector.close()
  // Warnings are emitted on a later tick.
  await new Promise((r) => setImmediate(r))
  return { warnings, signals, samples }
}

function assertFlat(r: Awaited<ReturnType<typeof pollFor>>) {
  assert.equal(r.signals.size, 1, 'one signal for the collector, reused by every read')
  assert.deepEqual(
    r.samples.map((s) => s.listeners),
    r.samples.map(() => 0),
    'abort listeners left on the signal after each read',
  )
  assert.deepEqual(
    r.warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
    [],
  )
  // Handles and timers: the last reads hold no more of each kind than the early ones did.
  const kinds = new Set(r.samples.flatMap((s) => [...s.resources.keys()]))
  const early = r.samples.slice(2, 12)
  const late = r.samples.slice(-10)
  for (const kind of kinds) {
    const most = (ss: Sample[]) => Math.max(...ss.map((s) => s.resources.get(kind) ?? 0))
    assert.ok(
      most(late) <= most(early),
      `${kind}: ${most(early)} active early, ${most(late)} after ${CYCLES} reads`,
    )
  }
}

test(`missing nvidia-smi, ${CYCLES} reads: no listener, timer or handle growth, no warning`, async (t) => {
  const smi = await createStandIn()
  assertFlat(await pollFor(t, smi, join(smi.dir, 'does-not-exist')))
})

test(`failing nvidia-smi (exit 9), ${CYCLES} reads: no listener, timer or handle growth, no warning`, async (t) => {
  const smi = await createStandIn({
    gpuOut: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
    gpuExit: 9,
  })
  const r = await pollFor(t, smi, smi.path)
  assertFlat(r)
  assert.ok((await smi.calls()).length >= CYCLES, 'the stand-in ran on every read')
})
