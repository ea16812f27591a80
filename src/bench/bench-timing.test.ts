import assert from 'node:assert/strict'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { test } from 'node:test'
import type { RecordedRequest, ScriptedEngine } from '../sim/index.js'
import { benchTestOptions, corpusBeforeTests, startTestEngine } from '../testing/bench-kit.js'
import { quantileSorted } from './_stats.js'
import { type BenchOptions, type BenchRun, runBench } from './index.js'

// The client's timing against the scripted engine's known schedule (headers and a chat stream's
// role-only chunk at once, the first content firstTokenMs after arrival, then one token every
// interTokenMs), both on this process's performance.now() clock: every chunk's measured arrival
// against the moment the engine wrote it, and TTFT / TPOT / E2E against the engine's own.

const corpus = corpusBeforeTests()

const p99 = (xs: number[]) => quantileSorted(Float64Array.from(xs).sort(), 0.99)

/** Loop delay p99 (ms) above which this process cannot resolve a millisecond: it is being
 * descheduled (other work on a shared machine), whatever the client does. */
const QUIET_MS = 10

/**
 * Runs the bench up to 3 times, until one run's event-loop delay p99 (node's own measure of how
 * late this process gets to run) is under QUIET_MS; returns that run, or the last one marked noisy.
 */
async function quietRun(engine: ScriptedEngine, o: BenchOptions) {
  let last: { run: BenchRun; served: RecordedRequest[]; limit: number; noisy: boolean } | undefined
  for (let attempt = 0; attempt < 3; attempt++) {
    const from = engine.requests.length + o.load.warmupRequests
    const loop = monitorEventLoopDelay({ resolution: 1 })
    loop.enable()
    const run = await runBench(o)
    loop.disable()
    const delay = loop.percentile(99) / 1e6
    last = { run, served: engine.requests.slice(from), limit: 1 + delay, noisy: delay > QUIET_MS }
    if (!last.noisy) break
  }
  return last as NonNullable<typeof last>
}

function options(url: string, over: Partial<BenchOptions['load']> = {}): BenchOptions {
  return benchTestOptions(url, {
    load: { requests: 40, warmupRequests: 10, seed: 7, ...over },
    prompts: { output: { kind: 'fixed', tokens: 8 } },
    corpus: corpus(),
  })
}

test('TTFT, TPOT, ITL and E2E match the engine schedule within 1 ms at p99', async (t) => {
  const engine = await startTestEngine(t, { firstTokenMs: 12, interTokenMs: 3, promptTokens: 64 })
  // On a shared machine the process itself is sometimes descheduled; that noise (the event loop's
  // own delay over the run, as node measures it) is allowed on top of the 1 ms.
  const { run, served, limit, noisy } = await quietRun(engine, options(engine.url))
  assert.equal(run.summary.completed, 40)
  assert.equal(served.length, 40)
  const chunkErr: number[] = []
  const ttftErr: number[] = []
  const tpotErr: number[] = []
  const e2eErr: number[] = []
  run.records.forEach((r, i) => {
    const s = served[i]
    assert.ok(s?.endAtMs !== undefined)
    assert.equal(r.chunkMs.length, 8)
    assert.equal(s.tokenAtMs.length, 8)
    for (const [k, c] of r.chunkMs.entries())
      chunkErr.push(c + run.clockZeroMs - (s.tokenAtMs[k] as number))
    const sent = r.sentMs + run.clockZeroMs
    const ttft = (r.chunkMs[0] as number) - r.sentMs
    const e2e = (r.endMs as number) - r.sentMs
    ttftErr.push(Math.abs(ttft - ((s.tokenAtMs[0] as number) - sent)))
    e2eErr.push(Math.abs(e2e - ((s.endAtMs as number) - sent)))
    const tpot = (e2e - ttft) / 7
    tpotErr.push(Math.abs(tpot - ((s.endAtMs as number) - (s.tokenAtMs[0] as number)) / 7))
    // The schedule itself: never early, the role-only chunk before it reported apart.
    assert.ok(ttft >= 12, `TTFT ${ttft}`)
    assert.ok(r.roleChunkMs !== undefined && r.roleChunkMs <= (r.chunkMs[0] as number))
  })
  assert.ok(
    chunkErr.every((e) => e >= -0.05),
    'a chunk cannot arrive before it was written',
  )
  assert.equal(run.summary.roleToContent.count, 40)
  assert.equal(run.summary.itl.count, 40 * 7)
  if (noisy) {
    t.diagnostic(
      `3 runs too noisy to resolve 1 ms (event-loop delay p99 ${(limit - 1).toFixed(1)} ms): timing not asserted`,
    )
    return
  }
  t.diagnostic(
    `p99 error (ms): chunk ${p99(chunkErr).toFixed(3)}, TTFT ${p99(ttftErr).toFixed(3)}, TPOT ${p99(tpotErr).toFixed(3)}, E2E ${p99(e2eErr).toFixed(3)}; limit ${limit.toFixed(3)}`,
  )
  assert.ok(
    p99(chunkErr) <= limit,
    `chunk arrival error p99 ${p99(chunkErr).toFixed(3)} ms (limit ${limit.toFixed(3)})`,
  )
  assert.ok(p99(ttftErr) <= limit, `TTFT error p99 ${p99(ttftErr).toFixed(3)} ms`)
  assert.ok(p99(tpotErr) <= limit, `TPOT error p99 ${p99(tpotErr).toFixed(3)} ms`)
  assert.ok(p99(e2eErr) <= limit, `E2E error p99 ${p99(e2eErr).toFixed(3)} ms`)
  // And the summary is built from those: TTFT p50 near the schedule, ITL near 3 ms.
  assert.ok(Math.abs(run.summary.ttft.p50 - 12) < 3, `TTFT p50 ${run.summary.ttft.p50}`)
  assert.ok(Math.abs(run.summary.itl.p50 - 3) < 1.5, `ITL p50 ${run.summary.itl.p50}`)
})

test('under concurrency the distributions follow the engine, and TPOT = (E2E − TTFT)/(n − 1)', async (t) => {
  const engine = await startTestEngine(t, { firstTokenMs: 20, interTokenMs: 4, promptTokens: 64 })
  const { run, served, limit, noisy } = await quietRun(
    engine,
    options(engine.url, { maxConcurrency: 16, requests: 160 }),
  )
  const s = run.summary
  assert.equal(s.completed, 160)
  assert.ok(s.maxConcurrencySeen >= 8 && s.maxConcurrencySeen <= 16, `peak ${s.maxConcurrencySeen}`)
  assert.ok(s.tpot.count === 160 && Math.abs(s.e2el.mean - s.ttft.mean - 7 * s.tpot.mean) < 1e-6)
  if (noisy) {
    t.diagnostic(
      `3 runs too noisy to resolve 1 ms (event-loop delay p99 ${(limit - 1).toFixed(1)} ms): timing not asserted`,
    )
    return
  }
  // The engine's own view of the same requests, from its timestamps (arrival to first write).
  const engineTtft = served
    .map((r) => (r.tokenAtMs[0] as number) - r.receivedAtMs)
    .sort((a, b) => a - b)
  const median = quantileSorted(Float64Array.from(engineTtft), 0.5)
  assert.ok(median >= 20, `engine TTFT p50 ${median}`)
  assert.ok(
    s.ttft.p50 >= median && s.ttft.p50 - median <= limit,
    `client TTFT p50 ${s.ttft.p50} vs engine ${median} (limit ${limit})`,
  )
  const engineTpot = served
    .map((r) => ((r.endAtMs as number) - (r.tokenAtMs[0] as number)) / 7)
    .sort((a, b) => a - b)
  const tpotMedian = quantileSorted(Float64Array.from(engineTpot), 0.5)
  assert.ok(tpotMedian >= 4, `engine TPOT p50 ${tpotMedian}`)
  assert.ok(
    Math.abs(s.tpot.p50 - tpotMedian) <= limit,
    `client TPOT p50 ${s.tpot.p50} vs engine ${tpotMedian}`,
  )
})
