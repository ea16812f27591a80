import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { startScriptedEngine, startSimulator } from '../sim/index.js'
import {
  type BenchEndpoint,
  type BenchOptions,
  benchJson,
  type CorpusAnalysis,
  loadCorpusAnalysis,
  runBench,
} from './index.js'

// Every request format, streamed and whole, read right: the scripted engine answers each the way
// its engine does (OpenAI SSE with a usage chunk, TGI SSE `data:` without a space and a final
// details event, vLLM's demo NDJSON with cumulative text, llama.cpp's final stop event), and the
// simulator's TGI profile serves /generate_stream as TGI does.

let corpus: CorpusAnalysis
before(async () => {
  corpus = await loadCorpusAnalysis()
})

function options(url: string, endpoint: BenchEndpoint, stream: boolean): BenchOptions {
  return {
    target: { baseUrl: url, endpoint, model: 'm', stream, ignoreEos: true, tokenIds: false },
    load: {
      arrivals: { kind: 'closed' },
      maxConcurrency: 2,
      requests: 4,
      warmupRequests: 0,
      timeoutMs: 10_000,
      seed: 1,
    },
    prompts: {
      input: { kind: 'fixed', tokens: 64 },
      output: { kind: 'fixed', tokens: 5 },
      sharedPrefixTokens: 0,
    },
    metricsUrls: [],
    sampleEveryMs: 1000,
    corpus,
  }
}

test('chat, completions, TGI, vLLM /generate and llama.cpp, streamed and not', async (t) => {
  const engine = await startScriptedEngine({ firstTokenMs: 3, interTokenMs: 1, promptTokens: 64 })
  t.after(() => engine.close())
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
  const sim = await startSimulator({
    engine: 'tgi',
    model: 'qwen3-4b-instruct-2507',
    gpu: 'h200',
    gpuMemoryUtilization: 0.9,
    speed: 50,
    host: '127.0.0.1',
    port: 0,
  })
  t.after(() => sim.close())
  await sim.warmTokenizer()
  const run = await runBench(options(sim.url, 'tgi-generate', true))
  assert.equal(run.summary.completed, 4, JSON.stringify(run.records[0]))
  for (const r of run.records) {
    assert.equal(r.serverInputTokens, 64)
    assert.equal(r.outputTokens, 5)
  }
})

test('the API key goes in the Authorization header and nowhere in the results', async (t) => {
  const engine = await startScriptedEngine({ firstTokenMs: 1, interTokenMs: 1, promptTokens: 64 })
  t.after(() => engine.close())
  const o = options(engine.url, 'chat', true)
  o.target.apiKey = 'sk-test-secret-123'
  const run = await runBench(o)
  assert.equal(run.summary.completed, 4)
  assert.ok(engine.requests.every((r) => r.headers.authorization === 'Bearer sk-test-secret-123'))
  assert.ok(!JSON.stringify(benchJson(run)).includes('sk-test-secret'))
})
