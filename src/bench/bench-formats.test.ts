import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  benchTestOptions,
  corpusBeforeTests,
  startTestEngine,
  startTestSimulator,
} from '../testing/bench-kit.js'
import { type BenchEndpoint, type BenchOptions, benchJson, runBench } from './index.js'

// Every request format, streamed and whole, read right: the scripted engine answers each the way
// its engine does (OpenAI SSE with a usage chunk, TGI SSE `data:` without a space and a final
// details event, vLLM's demo NDJSON with cumulative text, llama.cpp's final stop event), and the
// simulator's TGI profile serves /generate_stream as TGI does.

const corpus = corpusBeforeTests()

function options(url: string, endpoint: BenchEndpoint, stream: boolean): BenchOptions {
  return benchTestOptions(url, {
    target: { endpoint, stream },
    load: { maxConcurrency: 2, requests: 4 },
    prompts: { output: { kind: 'fixed', tokens: 5 } },
    corpus: corpus(),
  })
}

test('chat, completions, TGI, vLLM /generate and llama.cpp, streamed and not', async (t) => {
  const engine = await startTestEngine(t, { firstTokenMs: 3, interTokenMs: 1, promptTokens: 64 })
  const usage: Record<BenchEndpoint, boolean> = {
    chat: true,
    completions: true,
    'tgi-generate': true,
    'vllm-generate': false,
    llamacpp: true,
  }
  for (const endpoint of Object.keys(usage) as BenchEndpoint[]) {
    for (const stream of [true, false]) {
      const run = await runBench(options(engine.url, endpoint, stream))
      const what = `${endpoint} ${stream ? 'streamed' : 'whole'}`
      assert.equal(run.summary.completed, 4, `${what}: ${JSON.stringify(run.records[0])}`)
      for (const r of run.records) {
        if (stream) assert.equal(r.chunkMs.length, 5, what)
        if (stream || usage[endpoint]) assert.equal(r.outputTokens, 5, what)
        assert.equal(r.serverInputTokens, usage[endpoint] ? 64 : undefined, what)
        assert.equal(r.outputTokensFrom, usage[endpoint] ? 'usage' : 'events', what)
      }
      if (stream) assert.ok(run.summary.ttft.p50 >= 3 && run.summary.tpot.count === 4, what)
    }
  }
  const paths = new Set(engine.requests.map((r) => r.url))
  for (const p of [
    '/v1/chat/completions',
    '/v1/completions',
    '/generate_stream',
    '/generate',
    '/completion',
  ])
    assert.ok(paths.has(p), p)
})

test("the simulator's TGI serves bench's /generate_stream with TGI's input_length", async (t) => {
  const sim = await startTestSimulator(t, { engine: 'tgi' })
  const run = await runBench(options(sim.url, 'tgi-generate', true))
  assert.equal(run.summary.completed, 4, JSON.stringify(run.records[0]))
  for (const r of run.records) {
    assert.equal(r.serverInputTokens, 64)
    assert.equal(r.outputTokens, 5)
  }
})

test('the API key goes in the Authorization header and nowhere in the results', async (t) => {
  const engine = await startTestEngine(t, { firstTokenMs: 1, interTokenMs: 1, promptTokens: 64 })
  const o = options(engine.url, 'chat', true)
  o.target.apiKey = 'sk-test-secret-123'
  const run = await runBench(o)
  assert.equal(run.summary.completed, 4)
  assert.ok(engine.requests.every((r) => r.headers.authorization === 'Bearer sk-test-secret-123'))
  assert.ok(!JSON.stringify(benchJson(run)).includes('sk-test-secret'))
})
