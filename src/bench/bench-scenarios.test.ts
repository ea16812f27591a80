import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isAppError } from '../shared/index.js'
import { benchTestOptions, startTestEngine, startTestSimulator } from '../testing/bench-kit.js'
import {
  chatScenario,
  loadCorpusAnalysis,
  longContextScenario,
  readTargetFacts,
  runBench,
  runSweep,
} from './index.js'

// Presets sized from what the target says about itself, and the sweep's shape.

test('long-context is sized to max_model_len and the KV cache, and says when it cannot reach "long"', async (t) => {
  const sim = await startTestSimulator(t, { speed: 200 }, { warmTokenizer: false })
  const facts = await readTargetFacts(sim.url)
  assert.equal(facts.maxModelLen, sim.maxModelLen)
  assert.equal(facts.kvCacheTokens, sim.kvTokenBudget)
  const s = longContextScenario(facts, 100_000)
  assert.equal(s.input.kind, 'fixed')
  const input = s.input.kind === 'fixed' ? s.input.tokens : 0
  assert.ok(input >= 100_000 && input + 64 <= sim.maxModelLen, `${input} of ${sim.maxModelLen}`)
  assert.ok(s.concurrency * (input + 64) <= sim.kvTokenBudget, 'the cache holds them all at once')
  assert.ok(s.durationMs >= 7 * 60_000)
  // Two of them, for real: accepted, not refused, and counted long by the engine's usage.
  const run = await runBench(
    benchTestOptions(sim.url, {
      target: { endpoint: 'completions', model: sim.model, tokenIds: true },
      load: { maxConcurrency: s.concurrency, requests: 2, timeoutMs: 60_000 },
      prompts: { input: s.input, output: s.output },
      corpus: await loadCorpusAnalysis(),
    }),
  )
  assert.equal(run.summary.completed, 2, JSON.stringify(run.records.map((r) => r.errorDetail)))
  assert.ok(run.records.every((r) => r.serverInputTokens === input))

  // A 4090 D at 0.9 holds ~91K tokens: the scenario refuses with the reason and what to change.
  assert.throws(
    () =>
      longContextScenario(
        { models: ['m'], provider: 'vllm', maxModelLen: 91136, kvCacheTokens: 91136 },
        100_000,
      ),
    (e: unknown) =>
      isAppError(e, 'BENCH_SCENARIO_UNFIT') &&
      /below the long-context threshold 100000/.test(e.message),
  )
  const chat = chatScenario({ models: ['m'], provider: 'vllm', maxModelLen: 4096 })
  assert.ok(chat.input.kind === 'normal' && chat.input.max <= 4096 - 1024)
})

test('a sweep runs synchronous, all-out, then rates in between, and finds where it saturates', async (t) => {
  // About 10 ms a request: all-out is several times the synchronous rate.
  const engine = await startTestEngine(t, { firstTokenMs: 8, interTokenMs: 1, promptTokens: 16 })
  const result = await runSweep(
    benchTestOptions(engine.url, {
      target: { endpoint: 'completions', tokenIds: true },
      load: { maxConcurrency: 8, requests: 30, warmupRequests: 1, timeoutMs: 5000 },
      prompts: { input: { kind: 'fixed', tokens: 16 }, output: { kind: 'fixed', tokens: 3 } },
      corpus: await loadCorpusAnalysis(),
    }),
    3,
  )
  const labels = result.runs.map((r) => r.label ?? '')
  assert.equal(labels[0], 'synchronous')
  assert.match(labels[1] ?? '', /^throughput \(8 in flight\)$/)
  const [sync, all] = result.runs
  assert.ok(sync && all && all.summary.requestThroughput > sync.summary.requestThroughput * 1.5)
  assert.equal(sync.summary.maxConcurrencySeen, 1)
  const rates = labels.slice(2).map((l) => Number.parseFloat(l))
  assert.ok(rates.length >= 1 && rates.every((r, i) => i === 0 || r > (rates[i - 1] as number)))
  assert.ok(
    rates.every((r) => r > sync.summary.requestThroughput && r < all.summary.requestThroughput),
  )
})
