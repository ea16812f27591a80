import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseConfig } from '../config/index.js'
import { renderRecordingRules } from '../rules/index.js'
import { startProxyService } from '../server/index.js'
import { findBinary } from '../testing/index.js'
import { listPrometheusTargets, queryPrometheus, waitUntil } from '../testing/prom-stack.js'
import { startRulesStack } from '../testing/rules-stack.js'
import {
  type EngineSimulator,
  type SimEngine,
  simulatedNvidiaSmi,
  startSimulator,
} from './index.js'

// One real Prometheus (Debian's, test profile: 1 s scrapes and evaluations) runs the rules
// `inferwatch rules` generates for an `engines:` list of every simulated dialect at once: vLLM
// 0.8, 0.10 and 0.12, SGLang early and current, TGI, llama.cpp with and without its old KV
// gauges, each its own target, plus the admin server whose GPU collector reads the simulated card.
// After a little traffic to each, every llm:* recording rule has a series for every target whose
// metrics can feed it (and, as a check on the table, none for those whose cannot).

const skip =
  findBinary('prometheus') && findBinary('prometheus-alertmanager')
    ? false
    : 'needs prometheus and prometheus-alertmanager (make test installs them)'

interface Target {
  engine: SimEngine
  version: string
  feeds: string[]
}

const REQUESTS = ['llm:requests:rate1m', 'llm:requests:rate5m']
const ERRORS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'].map(
  (w) => `llm:request_errors:ratio_rate${w}`,
)
const DURATION = ['p50', 'p95', 'p99'].map((q) => `llm:request_duration_seconds:${q}_5m`)
const TTFT = ['llm:time_to_first_token_seconds:p50_5m', 'llm:time_to_first_token_seconds:p95_5m']
const TPOT = ['llm:time_per_output_token_seconds:p95_5m']
const TOKENS = ['llm:input_tokens:rate1m', 'llm:output_tokens:rate1m']
const GAUGES = ['llm:requests_running:sum', 'llm:requests_waiting:sum']
const KV = ['llm:kv_cache_usage:ratio']
const QUEUE = ['llm:queue_time_seconds:mean5m']
const PREEMPT = ['llm:preemptions:rate5m']
const LONG = ['llm:long_context_requests:ratio_rate5m']
// queue, prefill, decode from the engine's histograms (SGLang: decode from e2e - TTFT; TGI: queue).
const PHASES = ['llm:request_phase_seconds:mean5m']
/** Series only under some load (long prompts, a rising KV trend) or on the admin server's own
 * instance (energy per token, where the simulated card is): known, not checked per target. */
const ELSEWHERE = [
  // The fleet sums drop `instance` (one series per job and model, not per target).
  'llm:requests_running:fleet_sum',
  'llm:requests_waiting:fleet_sum',
  'llm:client_long_context_requests:share_rate5m',
  'llm:kv_cache_exhaustion_seconds',
  'llm:energy_joules_per_output_token:rate5m',
]

const vllmFeeds = [
  ...REQUESTS,
  ...ERRORS,
  ...DURATION,
  ...TTFT,
  ...TPOT,
  ...LONG,
  ...TOKENS,
  ...KV,
  ...GAUGES,
  ...QUEUE,
  ...PREEMPT,
  ...PHASES,
]
const TARGETS: Target[] = [
  { engine: 'vllm', version: '0.8', feeds: vllmFeeds },
  { engine: 'vllm', version: '0.10', feeds: vllmFeeds },
  { engine: 'vllm', version: '0.12', feeds: vllmFeeds },
  {
    engine: 'sglang',
    version: '0.3.6',
    feeds: [...REQUESTS, ...DURATION, ...TTFT, ...TOKENS, ...KV, ...GAUGES, ...PHASES],
  },
  {
    engine: 'sglang',
    version: '0.5.5',
    feeds: [
      ...REQUESTS,
      ...DURATION,
      ...TTFT,
      ...TPOT,
      ...TOKENS,
      ...KV,
      ...GAUGES,
      ...QUEUE,
      ...PREEMPT,
      ...PHASES,
    ],
  },
  {
    engine: 'tgi',
    version: '3.3.6',
    feeds: [
      ...REQUESTS,
      ...ERRORS,
      ...DURATION,
      ...TPOT,
      ...TOKENS,
      ...KV,
      ...GAUGES,
      ...QUEUE,
      ...PHASES,
    ],
  },
  { engine: 'llamacpp', version: 'b4748', feeds: [...TOKENS, ...KV, ...GAUGES] },
  { engine: 'llamacpp', version: 'b6100', feeds: [...TOKENS, ...GAUGES] },
]

async function traffic(sim: EngineSimulator, round: number): Promise<void> {
  const prompt = `round ${round}: how does continuous batching share a GPU between requests?`
  const [path, body] =
    sim.engine === 'tgi'
      ? ['/generate_stream', { inputs: prompt, parameters: { max_new_tokens: 8 } }]
      : sim.engine === 'llamacpp'
        ? ['/completion', { prompt, n_predict: 8, stream: true }]
        : [
            '/v1/chat/completions',
            {
              model: sim.model,
              messages: [{ role: 'user', content: prompt }],
              max_tokens: 8,
              stream: true,
            },
          ]
  await Promise.all(
    Array.from({ length: 3 }, async () => {
      const res = await fetch(`${sim.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      assert.equal(res.status, 200)
      await res.arrayBuffer()
    }),
  )
}

test('live: every llm:* recording rule has series for each simulated engine that can feed it', {
  skip,
}, async (t) => {
  const sims: EngineSimulator[] = []
  for (const target of TARGETS) {
    const sim = await startSimulator({
      engine: target.engine,
      engineVersion: target.version,
      model: 'qwen3-4b-instruct-2507',
      // Room for a max_model_len over the 100000-token long-context threshold (its histogram bucket).
      gpu: 'l40s',
      gpuMemoryUtilization: 0.85,
      speed: 50,
      host: '127.0.0.1',
      port: 0,
    })
    t.after(() => sim.close())
    sims.push(sim)
  }
  const first = sims[0] as EngineSimulator
  const service = await startProxyService(
    parseConfig({
      upstream: first.url,
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      gpu: { intervalMs: 1000 },
    }),
    { execFile: simulatedNvidiaSmi(first) },
  )
  t.after(() => service.close())
  const host = (s: EngineSimulator) => new URL(s.url).host
  const base = {
    upstream: first.url,
    admin: new URL(service.adminUrl).host,
    alerts: { profile: 'test', language: 'en' },
    engines: (['vllm', 'sglang', 'tgi', 'llamacpp'] as const).map((type) => ({
      type,
      targets: sims.filter((s) => s.engine === type).map(host),
    })),
  }
  const stack = await startRulesStack(base)
  t.after(() => stack.close())
  const { prom } = stack

  await waitUntil('every target scraped', async () => {
    const targets = await listPrometheusTargets(prom.url)
    const up = targets.filter((x) => x.health === 'up').map((x) => x.instance)
    return sims.every((s) => up.includes(host(s))) && up.includes(base.admin) ? true : undefined
  })
  for (const round of [1, 2]) {
    await Promise.all(sims.map((s) => traffic(s, round)))
    await new Promise((r) => setTimeout(r, 2500))
  }

  const records = [...renderRecordingRules(stack.config).matchAll(/record: (llm:[\w:]+)/g)].map(
    (m) => m[1] as string,
  )
  const known = new Set([
    ...TARGETS.flatMap((x) => x.feeds),
    'llm:gpu_memory_usage:ratio',
    ...ELSEWHERE,
  ])
  assert.deepEqual(
    records.filter((r) => !known.has(r)),
    [],
    'recording rules this test does not know yet',
  )

  const missing: string[] = []
  const unexpected: string[] = []
  for (const record of new Set(records)) {
    if (ELSEWHERE.includes(record)) continue
    if (record === 'llm:gpu_memory_usage:ratio') {
      const s = await waitUntil(record, async () => {
        const r = await queryPrometheus(prom.url, record)
        return r.length > 0 ? r : undefined
      })
      assert.equal(s[0]?.labels.hw_name, first.gpuName)
      const { usedBytes, totalBytes } = first.gpu.memory()
      assert.ok(
        Math.abs((s[0]?.value ?? 0) - usedBytes / totalBytes) < 1e-6,
        `${record} ${s[0]?.value}`,
      )
      continue
    }
    const want = TARGETS.map((x, i) => [x, sims[i] as EngineSimulator] as const).filter(([x]) =>
      x.feeds.includes(record),
    )
    const seen = await waitUntil(
      `${record} for ${want.map(([x]) => `${x.engine} ${x.version}`).join(', ')}`,
      async () => {
        const r = await queryPrometheus(prom.url, record)
        const instances = new Set(r.map((x) => x.labels.instance))
        return want.every(([, s]) => instances.has(host(s))) ? instances : undefined
      },
      { timeoutMs: 30_000 },
    ).catch(() => {
      missing.push(record)
      return new Set<string>()
    })
    for (const [x, s] of TARGETS.map((x, i) => [x, sims[i] as EngineSimulator] as const))
      if (!x.feeds.includes(record) && seen.has(host(s)))
        unexpected.push(`${record} from ${x.engine} ${x.version}`)
  }
  assert.deepEqual(missing, [], 'records without the series their engines can feed')
  assert.deepEqual(unexpected, [], 'series the table says an engine cannot feed')
})
