import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { test } from 'node:test'
import { benchTestOptions } from '../testing/bench-kit.js'
import { startTestProxyService } from '../testing/proxy-service.js'
import { loadCorpusAnalysis, runBench } from './index.js'

// The monitoring cross-check against a known proxy: the real proxy service (src/server) in front
// of the simulator. What the client measured and what the proxy's gen_ai_* metrics and the
// engine's vllm:* metrics recorded for the same run agree: request counts and tokens exactly,
// TTFT and E2E means (the histograms' sum / count) within a few ms; the engine's gauges are
// sampled during the run. The simulator runs in a child process (as `inferwatch sim` would), so
// its event loop does not share the one the client and the proxy time on.

async function startSimChild(t: {
  after: (fn: () => unknown) => void
}): Promise<{ url: string; model: string }> {
  const sim = new URL('../sim/index.js', import.meta.url).href
  const code = `import { startSimulator } from ${JSON.stringify(sim)}
const s = await startSimulator({ engine: 'vllm', model: 'qwen3-4b-instruct-2507', gpu: 'h200', gpuMemoryUtilization: 0.9, speed: 1, host: '127.0.0.1', port: 0 })
await s.warmTokenizer()
console.log(JSON.stringify({ url: s.url, model: s.model }))`
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  })
  const [line] = (await once(child.stdout, 'data')) as [Buffer]
  return JSON.parse(line.toString('utf8')) as { url: string; model: string }
}

test('client, proxy and engine agree on the same requests', async (t) => {
  const sim = await startSimChild(t)
  const service = await startTestProxyService(t, sim.url)
  const corpus = await loadCorpusAnalysis()
  const adminMetrics = `${service.adminUrl}/metrics`
  const engineMetrics = `${sim.url}/metrics`
  const loop = monitorEventLoopDelay({ resolution: 1 })
  loop.enable()
  const run = await runBench(
    benchTestOptions(service.proxyUrl, {
      target: { endpoint: 'completions', model: sim.model, tokenIds: true },
      load: { maxConcurrency: 4, requests: 40, warmupRequests: 2, timeoutMs: 30_000, seed: 2 },
      prompts: {
        input: { kind: 'uniform', min: 200, max: 2000 },
        output: { kind: 'fixed', tokens: 32 },
        sharedPrefixTokens: 128,
      },
      metricsUrls: [adminMetrics, engineMetrics],
      sampleEveryMs: 250,
      corpus,
    }),
  )
  loop.disable()
  const slack = 5 + loop.percentile(99) / 1e6
  await service.settled()
  assert.equal(run.summary.completed, 40)
  const c = run.crossCheck
  assert.ok(c)
  const [proxy, engine] = c.sources
  assert.equal(proxy?.kind, 'inferwatch')
  assert.equal(engine?.kind, 'vllm')
  assert.equal(c.client.requests, 40)
  // Warm-up requests came before the "before" scrape: exactly this run's requests are counted.
  assert.equal(proxy?.delta.requests, 40)
  assert.equal(engine?.delta.requests, 40)
  assert.equal(proxy?.delta.inputTokens, c.client.inputTokens)
  assert.equal(engine?.delta.inputTokens, c.client.inputTokens)
  assert.equal(proxy?.delta.outputTokens, 40 * 32)
  assert.equal(engine?.delta.outputTokens, 40 * 32)
  // The proxy times the same exchanges from its side of the same loopback.
  const ttftGap = Math.abs((proxy?.ttft?.meanMs ?? Number.NaN) - c.client.ttft.meanMs)
  const e2eGap = Math.abs((proxy?.e2e?.meanMs ?? Number.NaN) - c.client.e2e.meanMs)
  assert.ok(
    ttftGap < slack,
    `TTFT mean: client ${c.client.ttft.meanMs} proxy ${proxy?.ttft?.meanMs}`,
  )
  assert.ok(e2eGap < slack, `E2E mean: client ${c.client.e2e.meanMs} proxy ${proxy?.e2e?.meanMs}`)
  assert.equal(engine?.prefixHitRate, 0, 'distinct prompts: no prefix-cache hits')
  const samples = run.samples.filter((s) => s.source === engineMetrics)
  assert.ok(samples.length >= 2, `${samples.length} samples`)
  assert.ok(
    samples.some((s) => (s.running ?? 0) > 0) && samples.some((s) => (s.kvUsage ?? 0) > 0),
    `KV usage and running sampled during the run: ${JSON.stringify(samples)}`,
  )
})

test('the prefix-cache hit rate comes from the engine counters over the run', async (t) => {
  const sim = await startSimChild(t)
  const run = await runBench(
    benchTestOptions(sim.url, {
      target: { model: sim.model },
      load: { requests: 5, timeoutMs: 30_000, seed: 2 },
      // Every prompt is the shared prefix: the same 400 tokens, served from the cache after the first.
      prompts: {
        input: { kind: 'fixed', tokens: 400 },
        output: { kind: 'fixed', tokens: 2 },
        sharedPrefixTokens: 1000,
      },
      metricsUrls: [`${sim.url}/metrics`],
      corpus: await loadCorpusAnalysis(),
    }),
  )
  assert.equal(run.summary.completed, 5)
  const rate = run.crossCheck?.sources[0]?.prefixHitRate ?? 0
  assert.ok(rate > 0.6 && rate < 1, `hit rate ${rate}`)
})
