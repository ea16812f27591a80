import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { benchTestOptions, startTestSimulator } from '../testing/bench-kit.js'
import { LLAMACPP_SKIP, llamaServerFiles, startLlamaServer } from '../testing/llamacpp.js'
import { loadQwen3Tokenizer, type Qwen3Tokenizer } from '../tokens/index.js'
import { analyzeCorpus, type CorpusAnalysis, createPromptBuilder, promptText } from './_prompts.js'
import { type BenchEndpoint, type BenchOptions, runBench } from './index.js'

// Prompt lengths are exact: the builder's own re-encoding agrees with the length asked for, and
// the servers' reported prompt_tokens (the simulator counts with the Qwen3 tokenizer and renders
// the chat template; llama.cpp tokenizes with the model's own vocabulary) equal it per request.

let tokenizer: Qwen3Tokenizer
let corpus: CorpusAnalysis
before(async () => {
  tokenizer = await loadQwen3Tokenizer()
  corpus = analyzeCorpus(tokenizer)
})

test('the builder hits every length exactly, chat template and shared prefix included', () => {
  for (const chat of [false, true]) {
    const b = createPromptBuilder({
      corpus,
      tokenizer,
      chat,
      tokenIds: false,
      sharedPrefixTokens: 0,
      seed: 3,
    })
    if (chat) assert.equal(b.templateTokens, 8)
    for (const n of [9, 10, 17, 63, 64, 65, 200, 1024, 4096]) {
      const p = b.next(n)
      assert.equal(p.tokens, n)
      assert.equal(b.count(p), n, `${chat ? 'chat' : 'text'} prompt of ${n}`)
    }
  }
  const shared = createPromptBuilder({
    corpus,
    tokenizer,
    chat: true,
    tokenIds: false,
    sharedPrefixTokens: 300,
    seed: 3,
  })
  const a = shared.next(1000)
  const b = shared.next(1000)
  assert.equal(shared.count(a), 1000)
  assert.equal(shared.count(b), 1000)
  let common = 0
  while (a.text?.[common] === b.text?.[common]) common++
  assert.ok(common > 1000 && common < (a.text?.length ?? 0) - 100, `shared ${common} chars`)
  const ids = createPromptBuilder({
    corpus,
    tokenizer,
    chat: false,
    tokenIds: true,
    sharedPrefixTokens: 0,
    seed: 1,
  })
  assert.equal(ids.next(777).ids?.length, 777)
  assert.throws(
    () =>
      createPromptBuilder({
        corpus,
        tokenizer,
        chat: true,
        tokenIds: false,
        sharedPrefixTokens: 0,
        seed: 1,
      }).next(8),
    /BENCH_PROMPT_TOO_SHORT|no room/,
  )
})

test('a 256K-token prompt is built in well under a second, and its long rest is one shared buffer', () => {
  const b = createPromptBuilder({
    corpus,
    tokenizer,
    chat: true,
    tokenIds: false,
    sharedPrefixTokens: 0,
    seed: 9,
  })
  const t = performance.now()
  const p = b.next(262_000)
  const ms = performance.now() - t
  assert.ok(ms < 500, `${ms} ms`)
  assert.ok(promptText(p).length > 900_000)
  const q = b.next(262_000)
  assert.ok(p.tail && p.tail === q.tail, 'the same bytes, not a copy')
  assert.notEqual(p.text, q.text, 'each prompt still starts its own way (no prefix-cache hits)')
  // Exact where it is cheap to check in full: 16K tokens, tail included.
  const r = b.next(16_384)
  assert.ok(r.tail)
  assert.equal(b.count(r), 16_384)
})

function options(
  url: string,
  endpoint: BenchEndpoint,
  model: string,
  tokenIds = false,
): BenchOptions {
  return benchTestOptions(url, {
    target: { endpoint, model, tokenIds },
    load: { maxConcurrency: 4, requests: 8, timeoutMs: 60_000, seed: 5 },
    prompts: { input: { kind: 'uniform', min: 40, max: 1500 }, sharedPrefixTokens: 16 },
    tokenizer,
  })
}

test('the simulator reports exactly the prompt tokens built, per request, on every endpoint', async (t) => {
  const sim = await startTestSimulator(t)
  for (const [endpoint, ids] of [
    ['chat', false],
    ['completions', false],
    ['completions', true],
  ] as const) {
    const run = await runBench(options(sim.url, endpoint, sim.model, ids))
    assert.equal(
      run.summary.completed,
      8,
      `${endpoint}: ${JSON.stringify(run.summary.errorsByKind)}`,
    )
    const lens = new Set(run.records.map((r) => r.inputTokens))
    assert.ok(lens.size > 5, 'the lengths vary')
    for (const r of run.records)
      assert.equal(r.serverInputTokens, r.inputTokens, `${endpoint} ${ids}`)
    assert.equal(run.summary.promptChecked, 8)
    assert.equal(run.summary.promptMismatches, 0)
    assert.equal(run.summary.totalOutputTokens, 32)
  }
})

test('llama.cpp counts the same prompt tokens (its /completion, text and ids)', {
  skip: llamaServerFiles() ? false : LLAMACPP_SKIP,
}, async (t) => {
  const server = await startLlamaServer({ contextTokens: 16384, slots: 4 })
  t.after(() => server.close())
  for (const ids of [false, true]) {
    const o = options(server.url, 'llamacpp', server.model, ids)
    o.prompts.input = { kind: 'uniform', min: 20, max: 600 }
    o.prompts.output = { kind: 'fixed', tokens: 2 }
    o.load.requests = 6
    const run = await runBench(o)
    assert.equal(run.summary.completed, 6, JSON.stringify(run.records.find((r) => r.error)))
    for (const r of run.records) assert.equal(r.serverInputTokens, r.inputTokens)
  }
})
