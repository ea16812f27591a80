import assert from 'node:assert/strict'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { type TestContext, test } from 'node:test'
import { benchTestOptions, corpusBeforeTests, startTestEngine } from '../testing/bench-kit.js'
import { closedPortUrl } from '../testing/index.js'
import { createGapSampler } from './_shapes.js'
import { type BenchOptions, runBench } from './index.js'

// Load shapes and failures: Poisson arrivals pass a Kolmogorov-Smirnov test against the
// exponential distribution, gamma burstiness has the variance it should, every failure kind is
// counted and kept in the denominators, and the error budget stops the run.

const corpus = corpusBeforeTests()

/** KS statistic of `xs` against the CDF `F`. */
function ks(xs: number[], F: (x: number) => number): number {
  const s = [...xs].sort((a, b) => a - b)
  let d = 0
  s.forEach((x, i) => {
    const f = F(x)
    d = Math.max(d, (i + 1) / s.length - f, f - i / s.length)
  })
  return d
}

test('Poisson gaps are exponential (KS), gamma gaps have CV² = 1/burstiness, constant gaps are exact', () => {
  const rate = 50
  const n = 4000
  const poisson = createGapSampler(
    { kind: 'gamma', ratePerSecond: rate, burstiness: 1 },
    42,
  ) as () => number
  const gaps = Array.from({ length: n }, poisson)
  const critical = 1.36 / Math.sqrt(n) // 5 % level
  const d = ks(gaps, (x) => 1 - Math.exp((-rate * x) / 1000))
  assert.ok(d < critical, `KS D ${d.toFixed(4)} vs ${critical.toFixed(4)}`)
  // The same test rejects a wrong rate: it can fail.
  assert.ok(ks(gaps, (x) => 1 - Math.exp((-rate * 1.1 * x) / 1000)) > critical)
  for (const shape of [0.25, 4]) {
    const g = createGapSampler(
      { kind: 'gamma', ratePerSecond: rate, burstiness: shape },
      7,
    ) as () => number
    const xs = Array.from({ length: n }, g)
    const mean = xs.reduce((a, x) => a + x, 0) / n
    const cv2 = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / n / mean ** 2
    assert.ok(Math.abs(mean - 1000 / rate) / (1000 / rate) < 0.08, `mean gap ${mean}`)
    assert.ok(Math.abs(cv2 - 1 / shape) / (1 / shape) < 0.2, `shape ${shape}: CV² ${cv2}`)
  }
  const c = createGapSampler({ kind: 'constant', ratePerSecond: 8 }, 1) as () => number
  assert.equal(c(), 125)
})

function options(url: string, load: Partial<BenchOptions['load']>): BenchOptions {
  return benchTestOptions(url, {
    target: { endpoint: 'completions', tokenIds: true },
    load: { maxConcurrency: 4, requests: 20, timeoutMs: 5000, ...load },
    prompts: { input: { kind: 'fixed', tokens: 32 } },
    corpus: corpus(),
  })
}

test('an open loop sends on the Poisson schedule and counts latency from it', async (t) => {
  const engine = await startTestEngine(t, { firstTokenMs: 2, interTokenMs: 1, promptTokens: 32 })
  const loop = monitorEventLoopDelay({ resolution: 1 })
  loop.enable()
  const rate = 60
  const run = await runBench(
    options(engine.url, {
      arrivals: { kind: 'gamma', ratePerSecond: rate, burstiness: 1 },
      maxConcurrency: Number.POSITIVE_INFINITY,
      requests: 180,
    }),
  )
  loop.disable()
  assert.equal(run.summary.completed, 180)
  assert.ok(run.fromScheduled)
  const sched = run.records.map((r) => r.scheduledMs)
  const gaps = sched.slice(1).map((x, i) => x - (sched[i] as number))
  assert.ok(ks(gaps, (x) => 1 - Math.exp((-rate * x) / 1000)) < 1.36 / Math.sqrt(gaps.length))
  // Sent on time: the typical request leaves within ~1 ms of its slot, plus whatever this process's
  // own timers lag on a busy machine (node's event-loop delay over the run).
  assert.ok(run.records.every((r) => r.sentMs >= r.scheduledMs))
  const allowed = 2 + loop.percentile(90) / 1e6
  assert.ok(
    run.summary.clientQueue.p50 < allowed,
    `queue p50 ${run.summary.clientQueue.p50} (allowed ${allowed})`,
  )
  const achieved = 180 / ((sched[179] as number) / 1000)
  assert.ok(Math.abs(achieved - rate) / rate < 0.15, `rate ${achieved}`)
})

test('a backlog behind --concurrency shows as client queue time and in the latencies', async (t) => {
  const engine = await startTestEngine(t, { firstTokenMs: 30, interTokenMs: 1, promptTokens: 32 })
  // 100 req/s into one slot of ~35 ms: the queue grows by ~2/3 of the run.
  const run = await runBench(
    options(engine.url, {
      arrivals: { kind: 'constant', ratePerSecond: 100 },
      maxConcurrency: 1,
      requests: 20,
    }),
  )
  const s = run.summary
  assert.equal(s.completed, 20)
  assert.ok(s.clientQueue.max > 300, `queue max ${s.clientQueue.max}`)
  assert.ok(s.e2el.max > s.clientQueue.max + 30, 'latency counts from the scheduled time')
})

/** The scripted engine answering every request with HTTP `status`, until set otherwise. */
function failingEngine(t: TestContext, status: number) {
  return startTestEngine(t, {
    firstTokenMs: 2,
    interTokenMs: 1,
    promptTokens: 32,
    failure: { kind: 'status', status },
  })
}

test('HTTP errors, resets, timeouts and refused connections are counted, never dropped', async (t) => {
  const engine = await failingEngine(t, 503)
  let run = await runBench(options(engine.url, {}))
  assert.equal(run.summary.failed, 20)
  assert.deepEqual(run.summary.errorsByKind, { http_503: 20 })
  assert.match(run.records[0]?.errorDetail ?? '', /scripted failure 503/)
  assert.equal(run.summary.completed, 0)

  engine.set({ failure: { kind: 'reset', afterTokens: 2 } })
  run = await runBench(options(engine.url, { requests: 8 }))
  assert.equal(run.summary.errorsByKind.reset, 8)

  engine.set({ failure: { kind: 'none' }, headerDelayMs: 400 })
  run = await runBench(options(engine.url, { requests: 4, timeoutMs: 100 }))
  assert.equal(run.summary.timeouts, 4)
  assert.equal(run.summary.failed, 4)
  assert.ok(
    (run.summary.e2elAll.min ?? 0) >= 99,
    'a timeout counts at its time in E2E incl. failed (timers may fire up to 1 ms early)',
  )

  const refused = await runBench(options(await closedPortUrl(), { requests: 3 }))
  assert.equal(refused.summary.errorsByKind.connect, 3)
})

test('the error budget stops issuing; a half-failing run keeps failures in goodput', async (t) => {
  const engine = await failingEngine(t, 500)
  const run = await runBench(
    options(engine.url, { requests: 500, maxErrorRate: 0.2, maxConcurrency: 2 }),
  )
  assert.equal(run.stopReason, 'error-budget')
  assert.ok(run.records.length < 30, `${run.records.length} sent`)
  engine.set({ failure: { kind: 'none' } })
  const mixed = await runBench({
    ...options(engine.url, { requests: 10 }),
    slo: { ttftMs: 10_000 },
  })
  assert.equal(mixed.summary.sloAttainment, 1)
  assert.equal(mixed.summary.goodputRequests, 10)
})
