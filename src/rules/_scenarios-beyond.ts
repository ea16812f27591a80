// promtool cases for _recording-beyond.ts and _alerts-beyond.ts: a steady KV climb forecast and
// alerted before it reaches 85 %, a sawtooth that never is, the client behind the long-context
// share (and the alert naming it), request phases, energy and cost per token.
import { TOP_CLIENT_QUERY } from './_messages-beyond.js'
import type { RulesPlan } from './_plan.js'
import { type AlertScenario, MODEL, out, proxy, type ScenarioKit, vllm } from './_scenario-kit.js'
import {
  clean,
  counterValues,
  type ExprTest,
  gaugeValues,
  type InputSeries,
  type Labels,
  seconds,
  series,
  type TestCase,
  type Timeline,
} from './_test-model.js'

/** Alert scenarios run by rule-tests.ts like the others (pending, then firing with its text). */
export function beyondScenarios(kit: ScenarioKit): AlertScenario[] {
  const { th, t, c, rate } = kit
  const step = t.stepSeconds
  const within = th.kvExhaustionWithinSeconds
  const forS = th.forSeconds.LLMKVCacheExhaustionSoon
  // Fires at `after` (rule-tests.ts): the forecast is then `left` seconds, usage under 85 %.
  const after = Math.max(rate + forS, 300) + step
  // Full within `within` from the first evaluation on, yet under 85 % when it fires; `left` sits
  // half a second off a whole second so that float noise cannot change the humanized text.
  const slope = clean(0.6 / within)
  const left = Math.floor((0.15 / slope + within - (after - rate)) / 2) + 0.5
  const u0 = clean(1 - slope * (left + after))
  const climb = (labels: Labels, from: number, perStep: number): InputSeries => ({
    series: series('vllm:kv_cache_usage_perc', labels),
    values: `${from}${perStep < 0 ? '-' : '+'}${clean(Math.abs(perStep))}x${t.samples}`,
  })
  const scenarios: AlertScenario[] = [
    {
      alert: 'LLMKVCacheExhaustionSoon',
      startSeconds: rate,
      input: [
        climb(vllm('gpu-a:8000'), u0, slope * step),
        // Rising too slowly to be full within the window; flat at 90 %; falling.
        climb(vllm('gpu-b:8000'), 0.2, 0.0001 * step),
        kit.g('vllm:kv_cache_usage_perc', vllm('gpu-c:8000'), 0.9),
        climb(vllm('gpu-d:8000'), 0.95, -0.001 * step),
      ],
      firing: [
        { labels: out('vllm', 'gpu-a:8000', 'vllm', MODEL), severity: 'warning', value: left },
      ],
    },
  ]
  // Long context with client counters: the description names the top client.
  const d = 'gen_ai_server_request_duration_seconds_count'
  const ok = { error_type: '' }
  const lc = clean((th.longContextRatio + 1) / 2)
  const cl = (client: string, cls: string) => ({
    job: 'inferwatch',
    instance: 'proxy-c:9464',
    client,
    context_class: cls,
    error_type: '',
  })
  const requests = 'inferwatch_client_requests_total'
  scenarios.push({
    alert: 'LLMLongContextOverload',
    startSeconds: rate,
    input: [
      c(d, proxy('proxy-c:9464', { context_class: 'long', ...ok }), 100 * lc),
      c(d, proxy('proxy-c:9464', { context_class: 'short', ...ok }), 100 * (1 - lc)),
      c(requests, cl('batch-summarizer', 'long'), 90 * lc),
      c(requests, cl('web', 'long'), 10 * lc),
      c(requests, cl('web', 'short'), 100 * (1 - lc)),
    ],
    firing: [
      {
        labels: out('inferwatch', 'proxy-c:9464', 'vllm', MODEL),
        severity: 'critical',
        value: lc,
        queries: {
          [TOP_CLIENT_QUERY]: [
            {
              labels: { job: 'inferwatch', instance: 'proxy-c:9464', client: 'batch-summarizer' },
              value: 0.9,
            },
          ],
        },
      },
    ],
  })
  return scenarios
}

function labelText(l: Labels): string {
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`
}

/** A sawtooth of batches (up to 80 % in 4 minutes, back to 40 %) over an hour: every ramp alone
 * forecasts a full cache within minutes, but never for `for` (5 m), and once the 30-minute window
 * is full the trend is flat: no forecast under `within` at all. */
function sawtoothCase(plan: RulesPlan, t: Timeline): TestCase {
  const step = t.stepSeconds
  const samples = Math.ceil(3600 / step) + 1
  const at = (i: number) => {
    const k = ((i * step) % 300) / 240
    return k <= 1 ? clean(0.4 + 0.4 * k) : 0.4
  }
  const saw = vllm('saw:8000')
  const values = Array.from({ length: samples }, (_, i) => at(i)).join(' ')
  // A ramp lasts 240 s: with a shorter `for` (the test profile) a ramp may fire before the
  // 30-minute window is full, so only the evaluations after it are checked then.
  const from = plan.thresholds.forSeconds.LLMKVCacheExhaustionSoon > 240 ? 0 : 1800
  const evals = Array.from({ length: Math.floor(3600 / 150) }, (_, i) => (i + 1) * 150).filter(
    (e) => e > from,
  )
  const within = plan.thresholds.kvExhaustionWithinSeconds
  return {
    name: 'LLMKVCacheExhaustionSoon: quiet on a sawtooth, absent when flat or falling',
    interval: seconds(step),
    input_series: [
      { series: series('vllm:kv_cache_usage_perc', saw), values },
      {
        series: series('vllm:kv_cache_usage_perc', vllm('flat:8000')),
        values: `0.84x${samples}`,
      },
      {
        series: series('vllm:kv_cache_usage_perc', vllm('falling:8000')),
        values: `0.9-0.0003x${samples}`,
      },
    ],
    alert_rule_test: evals.map((e) => ({
      eval_time: seconds(e),
      alertname: 'LLMKVCacheExhaustionSoon',
      exp_alerts: [],
    })),
    promql_expr_test: [
      // Mid-ramp the forecast exists and is short: the quiet above is the trend and `for` at work.
      {
        expr: `count(llm:kv_cache_exhaustion_seconds{instance="saw:8000"} < ${within})`,
        eval_time: seconds(210),
        exp_samples: [{ labels: '{}', value: 1 }],
      },
      {
        expr: 'llm:kv_cache_exhaustion_seconds{instance=~"flat:8000|falling:8000"}',
        eval_time: seconds(1800),
        exp_samples: [],
      },
    ],
  }
}

/** Phases, client share, energy and cost per token: values after round(…, 0.001). */
function recordingCase(plan: RulesPlan, t: Timeline): TestCase {
  const step = t.stepSeconds
  const input: InputSeries[] = []
  const g = (name: string, l: Labels, v: number) =>
    input.push({ series: series(name, l), values: gaugeValues(t, v) })
  const c = (name: string, l: Labels, perStep: number) =>
    input.push({ series: series(name, l), values: counterValues(t, perStep) })
  const v1 = vllm('gpu-a:8000')
  for (const [h, perStep] of [
    ['queue_time', 0.5],
    ['prefill_time', 0.25],
    ['decode_time', 2],
  ] as const) {
    c(`vllm:request_${h}_seconds_sum`, v1, perStep)
    c(`vllm:request_${h}_seconds_count`, v1, 1)
  }
  c('vllm:e2e_request_latency_seconds_sum', v1, 2.8)
  c('vllm:e2e_request_latency_seconds_count', v1, 1)
  const px = proxy('proxy-a:9464', { context_class: 'short' })
  const dur = 'gen_ai_server_request_duration_seconds'
  c(`${dur}_sum`, { ...px, error_type: '' }, 3)
  c(`${dur}_count`, { ...px, error_type: '' }, 1)
  c(`${dur}_sum`, { ...px, error_type: '503' }, 100)
  c(`${dur}_count`, { ...px, error_type: '503' }, 1)
  const sgl = (rank: string) => ({
    job: 'sglang',
    instance: 'sgl:30000',
    engine: 'sglang',
    model_name: MODEL,
    tp_rank: rank,
    pp_rank: '0',
  })
  for (const rank of ['0', '1']) {
    c('sglang:queue_time_seconds_sum', sgl(rank), 1)
    c('sglang:queue_time_seconds_count', sgl(rank), 2)
  }
  const sglTok = { job: 'sglang', instance: 'sgl:30000', engine: 'sglang', model_name: MODEL }
  c('sglang:time_to_first_token_seconds_sum', sglTok, 1.5)
  c('sglang:time_to_first_token_seconds_count', sglTok, 1)
  c('sglang:e2e_request_latency_seconds_sum', sglTok, 4)
  c('sglang:e2e_request_latency_seconds_count', sglTok, 1)
  const tgi = { job: 'tgi', instance: 'tgi:3000', engine: 'tgi' }
  c('tgi_request_queue_duration_sum', tgi, 3)
  c('tgi_request_queue_duration_count', tgi, 2)

  // Clients: 3 of 4 long requests from batch-summarizer on proxy-a; proxy-b has none (absent).
  const cl = (instance: string, client: string, cls: string) => ({
    job: 'inferwatch',
    instance,
    client,
    context_class: cls,
    error_type: '',
  })
  const requests = 'inferwatch_client_requests_total'
  c(requests, cl('proxy-a:9464', 'batch-summarizer', 'long'), 3)
  c(requests, cl('proxy-a:9464', 'web', 'long'), 1)
  c(requests, cl('proxy-a:9464', 'web', 'short'), 10)
  c(requests, cl('proxy-b:9464', 'web', 'short'), 10)

  // Energy and cost: two GPUs at 300 + 150 W on gpu-host, whose proxy meters 90 output and 900
  // input tokens/s (the engine's own count of the same model is not added); dcgm-exporter's GPU
  // at 250 W on host2, whose engine alone counts 40 output tokens/s.
  const gpu = (id: string) => ({
    job: 'inferwatch',
    instance: 'gpu-host:9464',
    gpu: id,
    hw_id: `GPU-${id}`,
    hw_name: 'NVIDIA GeForce RTX 4090 D',
  })
  g('hw_gpu_power_draw_watts', gpu('0'), 300)
  g('hw_gpu_power_draw_watts', gpu('1'), 150)
  g('hw_gpu_memory_limit_bytes', gpu('0'), 24e9)
  g('hw_gpu_memory_limit_bytes', gpu('1'), 24e9)
  const tok = (type: string) =>
    proxy('gpu-host:9464', { context_class: 'short', gen_ai_token_type: type })
  c('gen_ai_client_token_usage_sum', tok('output'), 90 * step)
  c('gen_ai_client_token_usage_sum', tok('input'), 900 * step)
  c(`${dur}_count`, { ...proxy('gpu-host:9464', { context_class: 'short' }), error_type: '' }, 1)
  c('vllm:generation_tokens_total', vllm('gpu-host:8000'), 999 * step)
  const dcgm = {
    job: 'dcgm',
    instance: 'host2:9400',
    gpu: '0',
    UUID: 'GPU-9',
    modelName: 'NVIDIA L40S',
  }
  g('DCGM_FI_DEV_POWER_USAGE', dcgm, 250)
  g('DCGM_FI_DEV_FB_FREE', dcgm, 40000)
  c('vllm:generation_tokens_total', vllm('host2:8000', 'other-model'), 40 * step)

  const at = seconds(300 + step)
  const expect = (record: string, samples: [Labels, number][]): ExprTest => ({
    expr: `round(${record}, 0.001)`,
    eval_time: at,
    exp_samples: samples.map(([l, v]) => ({ labels: labelText(l), value: clean(v) })),
  })
  const o = (job: string, instance: string, engine?: string, model?: string) =>
    out(job, instance, engine, model)
  const phase = (l: Labels, p: string): Labels => ({ ...l, phase: p })
  const tests: ExprTest[] = [
    expect('llm:request_phase_seconds:mean5m', [
      [phase(o('vllm', 'gpu-a:8000', 'vllm', MODEL), 'queue'), 0.5],
      [phase(o('sglang', 'sgl:30000', 'sglang', MODEL), 'queue'), 0.5],
      [phase(o('tgi', 'tgi:3000', 'tgi'), 'queue'), 1.5],
      [phase(o('vllm', 'gpu-a:8000', 'vllm', MODEL), 'prefill'), 0.25],
      [phase(o('sglang', 'sgl:30000', 'sglang', MODEL), 'prefill'), 1],
      [phase(o('vllm', 'gpu-a:8000', 'vllm', MODEL), 'decode'), 2],
      [phase(o('sglang', 'sgl:30000', 'sglang', MODEL), 'decode'), 2.5],
      [phase(o('inferwatch', 'proxy-a:9464', 'vllm', MODEL), 'outside_engine'), 0.2],
    ]),
    expect('llm:client_long_context_requests:share_rate5m', [
      [{ job: 'inferwatch', instance: 'proxy-a:9464', client: 'batch-summarizer' }, 0.75],
      [{ job: 'inferwatch', instance: 'proxy-a:9464', client: 'web' }, 0.25],
    ]),
    expect('llm:energy_joules_per_output_token:rate5m', [
      [{ job: 'inferwatch', instance: 'gpu-host:9464' }, 450 / 90],
      [{ job: 'dcgm', instance: 'host2:9400' }, 250 / 40],
    ]),
  ]
  const price = plan.cost.gpuHourly
  if (price !== undefined) {
    const perM = (gpus: number, tokensPerS: number) =>
      Math.round(((gpus * price) / 3600 / tokensPerS) * 1e9) / 1000
    const currency = plan.cost.currency
    tests.push(
      expect('llm:cost_per_million_tokens:rate5m', [
        [{ job: 'inferwatch', instance: 'gpu-host:9464', currency }, perM(2, 990)],
        [{ job: 'dcgm', instance: 'host2:9400', currency }, perM(1, 40)],
      ]),
    )
  }
  return {
    name: 'recording rules: request phases, client long-context share, energy and cost per token',
    interval: seconds(step),
    input_series: input,
    promql_expr_test: tests,
  }
}

export function buildBeyondCases(plan: RulesPlan, t: Timeline): TestCase[] {
  return [sawtoothCase(plan, t), recordingCase(plan, t)]
}
