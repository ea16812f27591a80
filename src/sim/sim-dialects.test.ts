import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type PromExposition, parsePrometheusText } from '../engines/index.js'
import { readSharedFixture, SHARED_SKIP } from '../testing/index.js'
import { type EngineSimulator, type SimEngine, startSimulator } from './index.js'

// The simulator's /metrics against the real engines' own: every family of a captured sample
// (the shared engine fixtures, read in place through src/testing) exists in the simulated release with the same type,
// HELP text, label names and bucket boundaries; both sides go through src/engines' strict
// Prometheus parser. Where no capture exists (TGI, vLLM >= 0.12, current SGLang), the names,
// labels and buckets are the ones the engines' sources define
// (https://github.com/vllm-project/vllm/blob/main/vllm/v1/metrics/loggers.py,
// https://github.com/huggingface/text-generation-inference/blob/main/router/src/server.rs,
// https://github.com/sgl-project/sglang/blob/main/python/sglang/srt/metrics/collector.py).

interface Family {
  type: string | undefined
  help: string | undefined
  labels: Set<string>
  le: string[]
}

/** Family name -> what the exposition says about it (samples grouped by their TYPE line). */
function families(x: PromExposition): Map<string, Family> {
  const out = new Map<string, Family>()
  const familyOf = (name: string) => {
    if (x.metadata.has(name)) return name
    const base = name.replace(/_(bucket|sum|count)$/, '')
    return x.metadata.has(base) ? base : name
  }
  for (const [name, meta] of x.metadata)
    out.set(name, { type: meta.type, help: meta.help, labels: new Set(), le: [] })
  for (const s of x.samples) {
    const f = out.get(familyOf(s.name))
    if (!f) continue
    for (const k of Object.keys(s.labels)) if (k !== 'le') f.labels.add(k)
    if (s.name.endsWith('_bucket') && s.labels.le && !f.le.includes(s.labels.le))
      f.le.push(s.labels.le)
  }
  return out
}

async function simulate(engine: SimEngine, engineVersion?: string): Promise<EngineSimulator> {
  return startSimulator({
    engine,
    ...(engineVersion ? { engineVersion } : {}),
    model: 'qwen3-4b-instruct-2507',
    gpu: 'h200',
    gpuMemoryUtilization: 0.9,
    speed: 50,
    host: '127.0.0.1',
    port: 0,
  })
}

/** A little traffic first, so that every labelled series exists. */
async function scrape(sim: EngineSimulator): Promise<PromExposition> {
  const chat =
    sim.engine === 'tgi' || sim.engine === 'llamacpp' ? undefined : '/v1/chat/completions'
  const path = chat ?? (sim.engine === 'tgi' ? '/generate' : '/completion')
  const body = chat
    ? { model: sim.model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }
    : sim.engine === 'tgi'
      ? { inputs: 'hi', parameters: { max_new_tokens: 3 } }
      : { prompt: 'hi', n_predict: 3 }
  const res = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  assert.equal(res.status, 200, await res.clone().text())
  await res.arrayBuffer()
  const text = await (await fetch(`${sim.url}/metrics`)).text()
  return parsePrometheusText(text)
}

/** Every family of the fixture, as the simulator has it. */
function assertCovers(fixture: string, sim: PromExposition, label: string) {
  // The vLLM design doc elides with lines of "...": not exposition text.
  const real = families(
    parsePrometheusText(
      fixture
        .split('\n')
        .filter((l) => l !== '...')
        .join('\n'),
    ),
  )
  const ours = families(sim)
  assert.ok(real.size > 0)
  for (const [name, want] of real) {
    const got = ours.get(name)
    assert.ok(got, `${label}: the simulator has no ${name}`)
    assert.equal(got.type, want.type, `${label}: TYPE of ${name}`)
    assert.equal(got.help, want.help, `${label}: HELP of ${name}`)
    if (want.labels.size > 0)
      assert.deepEqual(
        [...got.labels].sort(),
        [...want.labels].sort(),
        `${label}: labels of ${name}`,
      )
    // Captures are cut: their buckets must be where ours begin, in the same spelling.
    assert.deepEqual(got.le.slice(0, want.le.length), want.le, `${label}: buckets of ${name}`)
    if (want.le.includes('+Inf'))
      assert.deepEqual(got.le, want.le, `${label}: all buckets of ${name}`)
  }
}

const CASES: [fixture: string, engine: SimEngine, version: string][] = [
  ['vllm-v1-early-production-stack-issue318.prom', 'vllm', '0.8'],
  ['vllm-docs-design-metrics-0328b592.prom', 'vllm', '0.8'],
  ['vllm-0.10.0-production-stack-issue617.prom', 'vllm', '0.10.0'],
  ['sglang-docs-production_metrics-00b08c49.prom', 'sglang', '0.3.6'],
  ['llamacpp-pr13196-comment-2025-06.prom', 'llamacpp', 'b5600'],
  ['llamacpp-pr13196-comment-2025-06.prom', 'llamacpp', 'b4748'],
]

describe('the simulated /metrics matches the real engines’ captures', () => {
  for (const [file, engine, version] of CASES) {
    const fixture = readSharedFixture(`engines/${file}`)
    test(`${engine} ${version} covers ${file}`, {
      skip: fixture ? false : SHARED_SKIP,
    }, async (t) => {
      const sim = await simulate(engine, version)
      t.after(() => sim.close())
      assertCovers(fixture ?? '', await scrape(sim), `${engine} ${version}`)
    })
  }
})

const names = (x: PromExposition) => new Set(x.metadata.keys())
const le = (x: PromExposition, family: string) =>
  families(x)
    .get(family)
    ?.le.filter((v) => v !== '+Inf')
    .map(Number)

test('vLLM by release: the KV, prefix-cache and per-token names each one exported', async (t) => {
  const expected: Record<string, { has: string[]; not: string[]; labels: string[] }> = {
    '0.8': {
      has: [
        'vllm:gpu_cache_usage_perc',
        'vllm:time_per_output_token_seconds',
        'vllm:gpu_prefix_cache_queries_total',
      ],
      not: [
        'vllm:kv_cache_usage_perc',
        'vllm:inter_token_latency_seconds',
        'vllm:prefix_cache_queries_total',
      ],
      labels: ['model_name'],
    },
    '0.10': {
      has: [
        'vllm:gpu_cache_usage_perc',
        'vllm:kv_cache_usage_perc',
        'vllm:prefix_cache_hits_total',
        'vllm:time_per_output_token_seconds',
      ],
      not: ['vllm:inter_token_latency_seconds', 'vllm:request_time_per_output_token_seconds'],
      labels: ['engine', 'model_name'],
    },
    '0.11': {
      has: [
        'vllm:kv_cache_usage_perc',
        'vllm:time_per_output_token_seconds',
        'vllm:inter_token_latency_seconds',
      ],
      not: ['vllm:gpu_cache_usage_perc', 'vllm:gpu_prefix_cache_hits_total'],
      labels: ['engine', 'model_name'],
    },
    '0.12': {
      has: [
        'vllm:kv_cache_usage_perc',
        'vllm:inter_token_latency_seconds',
        'vllm:request_time_per_output_token_seconds',
        'vllm:prefix_cache_queries_total',
        'vllm:prefix_cache_hits_total',
      ],
      not: [
        'vllm:gpu_cache_usage_perc',
        'vllm:time_per_output_token_seconds',
        'vllm:gpu_prefix_cache_queries_total',
      ],
      labels: ['engine', 'model_name'],
    },
  }
  for (const [version, want] of Object.entries(expected)) {
    const sim = await simulate('vllm', version)
    t.after(() => sim.close())
    const x = await scrape(sim)
    for (const n of want.has) assert.ok(names(x).has(n), `${version} lacks ${n}`)
    for (const n of want.not) assert.ok(!names(x).has(n), `${version} should not export ${n}`)
    assert.deepEqual(
      [...(families(x).get('vllm:num_requests_running')?.labels ?? [])].sort(),
      want.labels,
    )
    const deprecated = x.metadata.get('vllm:time_per_output_token_seconds')?.help ?? ''
    assert.equal(deprecated.includes('DEPRECATED'), version === '0.11', `${version}: ${deprecated}`)
    // Buckets from vllm/v1/metrics/loggers.py; token histograms 1-2-5 up to max_model_len.
    assert.deepEqual(
      le(x, 'vllm:time_to_first_token_seconds'),
      [
        0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20,
        40, 80, 160, 640, 2560,
      ],
    )
    assert.deepEqual(
      le(x, 'vllm:e2e_request_latency_seconds'),
      [
        0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920,
        7680,
      ],
    )
    const tokens = le(x, 'vllm:request_prompt_tokens') ?? []
    assert.deepEqual(tokens.slice(0, 6), [1, 2, 5, 10, 20, 50])
    assert.ok(
      (tokens.at(-1) ?? 0) <= sim.maxModelLen && (tokens.at(-1) ?? 0) * 2.5 > sim.maxModelLen,
    )
    // What src/engines reads for KV capacity: cache_config_info's blocks x block_size.
    const info = x.samples.find((s) => s.name === 'vllm:cache_config_info')
    assert.equal(
      Number(info?.labels.num_gpu_blocks) * Number(info?.labels.block_size),
      sim.kvTokenBudget,
    )
  }
})

test('TGI: no model label, counters without _total, 35 geometric duration buckets, 100 linear token buckets', async (t) => {
  const sim = await simulate('tgi')
  t.after(() => sim.close())
  const x = await scrape(sim)
  for (const [n, type] of [
    ['tgi_request_count', 'counter'],
    ['tgi_request_success', 'counter'],
    ['tgi_queue_size', 'gauge'],
    ['tgi_batch_current_size', 'gauge'],
    ['tgi_batch_current_max_tokens', 'gauge'],
    ['tgi_batch_max_total_tokens', 'gauge'],
    ['tgi_request_duration', 'histogram'],
    ['tgi_request_queue_duration', 'histogram'],
    ['tgi_request_mean_time_per_token_duration', 'histogram'],
    ['tgi_request_input_length', 'histogram'],
    ['tgi_request_generated_tokens', 'histogram'],
  ] as const)
    assert.equal(x.metadata.get(n)?.type, type, n)
  for (const s of x.samples)
    if (s.name.startsWith('tgi_request'))
      assert.deepEqual(
        Object.keys(s.labels).filter((k) => k !== 'le'),
        [],
        s.name,
      )
  const duration = le(x, 'tgi_request_duration') ?? []
  assert.equal(duration.length, 35)
  for (const [k, v] of duration.entries())
    assert.ok(Math.abs(v - 0.0001 * 1.5 ** (k + 1)) < 1e-12, `bucket ${k}: ${v}`)
  const input = le(x, 'tgi_request_input_length') ?? []
  assert.equal(input.length, 100)
  assert.ok(Math.abs((input.at(-1) ?? 0) - (sim.maxModelLen - 1)) < 1e-6)
  assert.equal(
    x.samples.find((s) => s.name === 'tgi_batch_max_total_tokens')?.value,
    sim.kvTokenBudget,
  )
})

test('SGLang current: scheduler labels, tokenizer labels and the collector’s buckets', async (t) => {
  const sim = await simulate('sglang')
  t.after(() => sim.close())
  const x = await scrape(sim)
  const f = families(x)
  assert.deepEqual([...(f.get('sglang:num_running_reqs')?.labels ?? [])].sort(), [
    'engine_type',
    'model_name',
    'moe_ep_rank',
    'pp_rank',
    'tp_rank',
  ])
  assert.deepEqual([...(f.get('sglang:time_to_first_token_seconds')?.labels ?? [])], ['model_name'])
  assert.deepEqual(
    le(x, 'sglang:time_to_first_token_seconds'),
    [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400],
  )
  assert.equal(le(x, 'sglang:inter_token_latency_seconds')?.length, 23)
  assert.equal(le(x, 'sglang:e2e_request_latency_seconds')?.at(-1), 2400)
  for (const n of [
    'sglang:queue_time_seconds',
    'sglang:num_retracted_requests_total',
    'sglang:max_total_num_tokens',
  ])
    assert.ok(f.has(n), n)
  assert.ok(!f.has('sglang:time_per_output_token_seconds'))
})
