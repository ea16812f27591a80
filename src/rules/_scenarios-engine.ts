import { type AlertScenario, GPU, MODEL, out, type ScenarioKit, vllm } from './_scenario-kit.js'
import { clean, type Labels } from './_test-model.js'

/** GPU memory, KV cache, queue, backlog, engine down, preemptions, missing targets. */
export function engineScenarios(kit: ScenarioKit): AlertScenario[] {
  const { th, g, c, under, rate, t } = kit
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

  // KV cache: V1 name, pre-0.9.2 name, both (new wins), data-parallel cores (max), SGLang ranks,
  // llama.cpp builds that export it (no model label).
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
  const llamaKv = (instance: string): Labels => ({ job: 'llamacpp', instance, engine: 'llamacpp' })
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
      g('llamacpp:kv_cache_usage_ratio', llamaKv('llama-a:8080'), kvHi),
      g('llamacpp:kv_cache_usage_ratio', llamaKv('llama-b:8080'), kvLo),
      g('llamacpp:kv_cache_tokens', llamaKv('llama-b:8080'), 4000),
    ],
    firing: ['gpu-a:8000', 'gpu-b:8000', 'gpu-e:8000']
      .map((i) => ({
        labels: out('vllm', i, 'vllm', MODEL),
        severity: 'warning' as const,
        value: kvHi,
      }))
      .concat([
        { labels: out('sglang', 'sgl:30000', 'sglang', MODEL), severity: 'warning', value: kvHi },
        { labels: out('llamacpp', 'llama-a:8080', 'llamacpp'), severity: 'warning', value: kvHi },
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
      g('up', { job: 'alertmanager', instance: '127.0.0.1:9093' }, 0),
      g('up', { job: 'inferwatch', instance: 'proxy-a:9464' }, 1),
      g('up', { job: 'prometheus', instance: '127.0.0.1:9090' }, 1),
      g('up', { job: 'vllm', instance: 'gpu-a:8000', engine: 'vllm' }, 0),
      // Another team's job in a shared Prometheus: not inferwatch's to report.
      g('up', { job: 'kube-etcd', instance: '10.0.0.9:2379' }, 0),
      g('inferwatch_gpu_collector_up', { job: 'inferwatch', instance: 'proxy-a:9464' }, 0),
    ],
    firing: [
      {
        labels: { job: 'alertmanager', instance: '127.0.0.1:9093' },
        severity: 'warning',
        value: 0,
      },
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
