import { errorBudget } from './_alerts.js'
import type { AlertName, RulesPlan } from './_plan.js'
import {
  clean,
  counterValues,
  gaugeValues,
  type InputSeries,
  type Labels,
  series,
  type Timeline,
} from './_test-model.js'

export interface Firing {
  labels: Labels
  severity: 'critical' | 'warning'
  value: number
}

/** Per alert: series with instances above and just under the threshold, and what must fire. */
export interface AlertScenario {
  alert: AlertName
  /** Seconds until the condition first holds (rates need two samples). */
  startSeconds: number
  input: InputSeries[]
  firing: Firing[]
}

const MODEL = 'qwen3-4b'
const GPU = 'NVIDIA GeForce RTX 4090 D'
const proxy = (instance: string, extra: Labels = {}): Labels => ({
  job: 'inferwatch',
  instance,
  gen_ai_operation_name: 'chat',
  gen_ai_request_model: MODEL,
  gen_ai_provider_name: 'vllm',
  ...extra,
})
const vllm = (instance: string, model = MODEL, extra: Labels = {}): Labels => ({
  job: 'vllm',
  instance,
  engine: 'vllm',
  // vLLM V1's own engine="0" label, renamed by Prometheus because the target sets `engine`.
  exported_engine: '0',
  model_name: model,
  ...extra,
})
const out = (job: string, instance: string, engine?: string, model?: string): Labels => ({
  job,
  instance,
  ...(engine ? { engine } : {}),
  ...(model ? { model } : {}),
})

export function buildAlertScenarios(plan: RulesPlan, t: Timeline): AlertScenario[] {
  const th = plan.thresholds
  const g = (name: string, labels: Labels, v: number) => ({
    series: series(name, labels),
    values: gaugeValues(t, v),
  })
  const c = (name: string, labels: Labels, perStep: number) => ({
    series: series(name, labels),
    values: counterValues(t, perStep),
  })
  const under = (x: number) => clean(x - Math.max(0.001, x * 0.005))
  const rate = t.stepSeconds
  const scenarios: AlertScenario[] = []

  // GPU memory: ours (hw_gpu_*) and dcgm-exporter (MiB); both on GPU-0 -> ours only.
  const limit = 24e9
  const hi = clean((th.gpuMemoryRatio + 1) / 2)
  const lo = under(th.gpuMemoryRatio)
  const gpu = (id: string) => ({
    job: 'inferwatch',
    instance: 'gpu-host:9464',
    gpu: id,
    hw_id: `GPU-${id}`,
    hw_name: GPU,
  })
  const dcgm = (id: string) => ({
    job: 'dcgm',
    instance: 'dcgm:9400',
    gpu: id,
    UUID: `GPU-${id}`,
    modelName: GPU,
    Hostname: 'gpu-host',
  })
  const dcgmUsed = (r: number) => Math.round(r * 24000)
  scenarios.push({
    alert: 'LLMGPUMemoryHigh',
    startSeconds: 0,
    input: [
      g('hw_gpu_memory_usage_bytes', gpu('0'), Math.round(hi * limit)),
      g('hw_gpu_memory_limit_bytes', gpu('0'), limit),
      g('hw_gpu_memory_usage_bytes', gpu('2'), Math.round(lo * limit)),
      g('hw_gpu_memory_limit_bytes', gpu('2'), limit),
      g('DCGM_FI_DEV_FB_USED', dcgm('0'), dcgmUsed(hi)),
      g('DCGM_FI_DEV_FB_FREE', dcgm('0'), 24000 - dcgmUsed(hi)),
      g('DCGM_FI_DEV_FB_USED', dcgm('1'), dcgmUsed(hi)),
      g('DCGM_FI_DEV_FB_FREE', dcgm('1'), 24000 - dcgmUsed(hi)),
    ],
    firing: [
      { labels: gpu('0'), severity: 'critical', value: Math.round(hi * limit) / limit },
      {
        labels: { job: 'dcgm', instance: 'dcgm:9400', gpu: '1', hw_id: 'GPU-1', hw_name: GPU },
        severity: 'critical',
        value: dcgmUsed(hi) / 24000,
      },
    ],
  })

  // KV cache: V1 name, pre-0.9.2 name, both (new wins), data-parallel cores (max), SGLang ranks.
  const kvHi = clean((th.kvCacheRatio + 1) / 2)
  const kvLo = under(th.kvCacheRatio)
  const sgl = (rank: string): Labels => ({
    job: 'sglang',
    instance: 'sgl:30000',
    engine: 'sglang',
    model_name: MODEL,
    tp_rank: rank,
    pp_rank: '0',
  })
  scenarios.push({
    alert: 'LLMKVCacheHigh',
    startSeconds: 0,
    input: [
      g('vllm:kv_cache_usage_perc', vllm('gpu-a:8000'), kvHi),
      g('vllm:gpu_cache_usage_perc', vllm('gpu-b:8000'), kvHi),
      g('vllm:kv_cache_usage_perc', vllm('gpu-c:8000'), kvLo),
      g('vllm:gpu_cache_usage_perc', vllm('gpu-c:8000'), kvHi),
      g('vllm:kv_cache_usage_perc', vllm('gpu-e:8000'), kvLo),
      g('vllm:kv_cache_usage_perc', vllm('gpu-e:8000', MODEL, { exported_engine: '1' }), kvHi),
      g('sglang:token_usage', sgl('0'), kvHi),
      g('sglang:token_usage', sgl('1'), kvHi),
    ],
    firing: ['gpu-a:8000', 'gpu-b:8000', 'gpu-e:8000']
      .map((i) => ({
        labels: out('vllm', i, 'vllm', MODEL),
        severity: 'warning' as const,
        value: kvHi,
      }))
      .concat([
        { labels: out('sglang', 'sgl:30000', 'sglang', MODEL), severity: 'warning', value: kvHi },
      ]),
  })

  // Queue time: V1 histogram, V0's time_in_queue_requests, one just under.
  const qHi = clean(th.queueTimeSeconds * 1.5)
  const qLo = under(th.queueTimeSeconds)
  scenarios.push({
    alert: 'LLMQueueTimeHigh',
    startSeconds: rate,
    input: [
      c('vllm:request_queue_time_seconds_sum', vllm('gpu-a:8000'), qHi),
      c('vllm:request_queue_time_seconds_count', vllm('gpu-a:8000'), 1),
      c('vllm:time_in_queue_requests_sum', vllm('gpu-b:8000'), qHi),
      c('vllm:time_in_queue_requests_count', vllm('gpu-b:8000'), 1),
      c('vllm:request_queue_time_seconds_sum', vllm('gpu-c:8000'), qLo),
      c('vllm:request_queue_time_seconds_count', vllm('gpu-c:8000'), 1),
    ],
    firing: ['gpu-a:8000', 'gpu-b:8000'].map((i) => ({
      labels: out('vllm', i, 'vllm', MODEL),
      severity: 'warning' as const,
      value: qHi,
    })),
  })

  // Backlog: running + waiting, vLLM and llama.cpp (no model label).
  const need = Math.ceil(th.backlogRequests)
  const llama = (instance: string) => ({ job: 'llamacpp', instance, engine: 'llamacpp' })
  scenarios.push({
    alert: 'LLMBacklogHigh',
    startSeconds: 0,
    input: [
      g('vllm:num_requests_running', vllm('gpu-a:8000'), Math.ceil(need / 2)),
      g('vllm:num_requests_waiting', vllm('gpu-a:8000'), need - Math.ceil(need / 2) + 1),
      g('vllm:num_requests_running', vllm('gpu-b:8000'), Math.ceil(need / 2)),
      g('vllm:num_requests_waiting', vllm('gpu-b:8000'), need - Math.ceil(need / 2) - 1),
      g('llamacpp:requests_processing', llama('llama:8080'), need),
      g('llamacpp:requests_deferred', llama('llama:8080'), 0),
    ],
    firing: [
      { labels: out('vllm', 'gpu-a:8000', 'vllm', MODEL), severity: 'warning', value: need + 1 },
      { labels: out('llamacpp', 'llama:8080', 'llamacpp'), severity: 'warning', value: need },
    ],
  })

  // Long context: the proxy's context_class; vLLM's prompt histogram only for models the proxy
  // does not meter (qwen3-4b on gpu-b is metered by the proxy: no second alert for it).
  const lcHi = clean((th.longContextRatio + 1) / 2)
  const lcLo = under(th.longContextRatio)
  const d = 'gen_ai_server_request_duration_seconds_count'
  const le = `${plan.longFromTokens}.0`
  const ok = { error_type: '' }
  scenarios.push({
    alert: 'LLMLongContextOverload',
    startSeconds: rate,
    input: [
      c(d, proxy('proxy-a:9464', { context_class: 'long', ...ok }), 100 * lcHi),
      c(d, proxy('proxy-a:9464', { context_class: 'short', ...ok }), 100 * (1 - lcHi)),
      c(d, proxy('proxy-b:9464', { context_class: 'long', ...ok }), 100 * lcLo),
      c(d, proxy('proxy-b:9464', { context_class: 'medium', ...ok }), 100 * (1 - lcLo)),
      c('vllm:request_prompt_tokens_count', vllm('gpu-a:8000', 'other-model'), 10),
      c(
        'vllm:request_prompt_tokens_bucket',
        vllm('gpu-a:8000', 'other-model', { le }),
        10 * (1 - lcHi),
      ),
      c('vllm:request_prompt_tokens_count', vllm('gpu-b:8000'), 10),
      c('vllm:request_prompt_tokens_bucket', vllm('gpu-b:8000', MODEL, { le }), 0),
    ],
    firing: [
      {
        labels: out('inferwatch', 'proxy-a:9464', 'vllm', MODEL),
        severity: 'critical',
        value: lcHi,
      },
      {
        labels: out('vllm', 'gpu-a:8000', 'vllm', 'other-model'),
        severity: 'critical',
        value: lcHi,
      },
    ],
  })

  // Errors: server-side only; 4xx and client aborts do not count.
  const eHi = clean(Math.min(0.9, th.errorRatio * 2))
  const eLo = under(th.errorRatio)
  const errSeries = (instance: string, type: string, share: number) => [
    c(d, proxy(instance, { context_class: 'short', error_type: type }), 1000 * share),
    c(d, proxy(instance, { context_class: 'short', error_type: '' }), 1000 * (1 - share)),
  ]
  scenarios.push({
    alert: 'LLMHighErrorRate',
    startSeconds: rate,
    input: [
      ...errSeries('proxy-a:9464', '500', eHi),
      ...errSeries('proxy-b:9464', 'upstream_timeout', eLo),
      ...errSeries('proxy-c:9464', '400', 0.5),
      c(d, proxy('proxy-c:9464', { context_class: 'short', error_type: 'client_abort' }), 500),
    ],
    firing: [
      {
        labels: out('inferwatch', 'proxy-a:9464', 'vllm', MODEL),
        severity: 'critical',
        value: eHi,
      },
    ],
  })

  // TTFT p95 against the SLO: all requests in (slo, 2*slo] vs (slo/2, slo].
  const s = th.ttftP95Seconds
  const bounds = [s / 2, s, 2 * s].map((b) => String(clean(b)))
  const ttft = (instance: string, counts: number[]) =>
    [...bounds, '+Inf'].map((b, i) =>
      c(
        'gen_ai_server_time_to_first_token_seconds_bucket',
        proxy(instance, { context_class: 'short', le: b }),
        counts[i] ?? 10,
      ),
    )
  scenarios.push({
    alert: 'LLMSlowTimeToFirstToken',
    startSeconds: rate,
    input: [...ttft('proxy-a:9464', [0, 0, 10, 10]), ...ttft('proxy-b:9464', [0, 10, 10, 10])],
    firing: [
      {
        labels: out('inferwatch', 'proxy-a:9464', 'vllm', MODEL),
        severity: 'warning',
        value: clean(1.95 * s),
      },
    ],
  })

  const upstream = {
    job: 'inferwatch',
    instance: 'proxy-a:9464',
    upstream: 'http://127.0.0.1:8000',
  }
  scenarios.push({
    alert: 'LLMEngineDown',
    startSeconds: 0,
    input: [
      g('up', { job: 'vllm', instance: 'gpu-a:8000', engine: 'vllm' }, 0),
      g('up', { job: 'vllm', instance: 'gpu-b:8000', engine: 'vllm' }, 1),
      g('up', { job: 'inferwatch', instance: 'proxy-a:9464' }, 1),
      g('inferwatch_upstream_up', upstream, 0),
    ],
    firing: [
      {
        labels: { job: 'vllm', instance: 'gpu-a:8000', engine: 'vllm' },
        severity: 'critical',
        value: 0,
      },
      { labels: upstream, severity: 'critical', value: 0 },
    ],
  })

  // Burn rates: 20x budget pages (and tickets), 5x tickets only, 0.5x is silent.
  const b = errorBudget(th.objective)
  const fast = clean(Math.min(1, 20 * b))
  const slow = clean(Math.min(1, 5 * b))
  const burnFiring: Firing[] = []
  if (fast > 14.4 * b) {
    burnFiring.push({
      labels: out('inferwatch', 'proxy-a:9464', 'vllm', MODEL),
      severity: 'critical',
      value: fast,
    })
  }
  burnFiring.push({
    labels: out('inferwatch', 'proxy-a:9464', 'vllm', MODEL),
    severity: 'warning',
    value: fast,
  })
  if (slow > 3 * b && slow <= 6 * b) {
    burnFiring.push({
      labels: out('inferwatch', 'proxy-b:9464', 'vllm', MODEL),
      severity: 'warning',
      value: slow,
    })
  }
  scenarios.push({
    alert: 'LLMErrorBudgetBurn',
    startSeconds: rate,
    input: [
      ...errSeries('proxy-a:9464', '503', fast),
      ...errSeries('proxy-b:9464', '503', slow),
      ...errSeries('proxy-c:9464', '503', clean(0.5 * b)),
    ],
    firing: burnFiring,
  })

  scenarios.push({
    alert: 'LLMPreemptions',
    startSeconds: rate,
    input: [
      c('vllm:num_preemptions_total', vllm('gpu-a:8000'), 1),
      c('vllm:num_preemptions_total', vllm('gpu-b:8000'), 0),
    ],
    firing: [
      {
        labels: out('vllm', 'gpu-a:8000', 'vllm', MODEL),
        severity: 'warning',
        value: 1 / t.stepSeconds,
      },
    ],
  })

  scenarios.push({
    alert: 'InferwatchTargetMissing',
    startSeconds: 0,
    input: [
      g('up', { job: 'node', instance: 'host:9100' }, 0),
      g('up', { job: 'inferwatch', instance: 'proxy-a:9464' }, 1),
      g('up', { job: 'prometheus', instance: '127.0.0.1:9090' }, 1),
      g('up', { job: 'vllm', instance: 'gpu-a:8000', engine: 'vllm' }, 0),
      g('inferwatch_gpu_collector_up', { job: 'inferwatch', instance: 'proxy-a:9464' }, 0),
    ],
    firing: [
      { labels: { job: 'node', instance: 'host:9100' }, severity: 'warning', value: 0 },
      { labels: { job: 'inferwatch', instance: 'proxy-a:9464' }, severity: 'warning', value: 0 },
    ],
  })
  // The admin job missing altogether: absent() carries the job label only.
  scenarios.push({
    alert: 'InferwatchTargetMissing',
    startSeconds: 0,
    input: [g('up', { job: 'prometheus', instance: '127.0.0.1:9090' }, 1)],
    firing: [{ labels: { job: 'inferwatch' }, severity: 'warning', value: 1 }],
  })
  return scenarios
}
