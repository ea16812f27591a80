import type { RulesPlan } from './_plan.js'
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

const MODEL = 'qwen3-4b'

function labelText(l: Labels): string {
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`
}

/**
 * Every engine's names land on the same llm:* series: vLLM V1 and V0 names, SGLang (two tensor
 * ranks counted once), TGI, llama.cpp, the proxy (which wins over vLLM for the model it meters),
 * inferwatch's GPU collector. Values are compared after round(…, 0.001).
 */
export function buildRecordingCase(_plan: RulesPlan, t: Timeline): TestCase {
  const step = t.stepSeconds
  const input: InputSeries[] = []
  const g = (name: string, l: Labels, v: number) =>
    input.push({ series: series(name, l), values: gaugeValues(t, v) })
  const c = (name: string, l: Labels, perStep: number) =>
    input.push({ series: series(name, l), values: counterValues(t, perStep) })
  const v1 = {
    job: 'vllm',
    instance: 'gpu-a:8000',
    engine: 'vllm',
    exported_engine: '0',
    model_name: MODEL,
  }
  const v0 = { job: 'vllm', instance: 'gpu-b:8000', engine: 'vllm', model_name: 'old-model' }
  const sgl = (rank: string) => ({
    job: 'sglang',
    instance: 'sgl:30000',
    engine: 'sglang',
    model_name: MODEL,
    tp_rank: rank,
    pp_rank: '0',
  })
  const tgi = { job: 'tgi', instance: 'tgi:3000', engine: 'tgi' }
  const llama = { job: 'llamacpp', instance: 'llama:8080', engine: 'llamacpp' }
  const px = {
    job: 'inferwatch',
    instance: 'proxy-a:9464',
    gen_ai_operation_name: 'chat',
    gen_ai_request_model: MODEL,
    gen_ai_provider_name: 'vllm',
    error_type: '',
  }

  g('vllm:num_requests_running', v1, 3)
  g('vllm:num_requests_waiting', v1, 2)
  g('vllm:kv_cache_usage_perc', v1, 0.5)
  c('vllm:request_queue_time_seconds_sum', v1, 0.5)
  c('vllm:request_queue_time_seconds_count', v1, 1)
  c('vllm:request_success_total', { ...v1, finished_reason: 'stop' }, 2)
  g('vllm:num_requests_running', v0, 1)
  g('vllm:num_requests_waiting', v0, 0)
  g('vllm:gpu_cache_usage_perc', v0, 0.25)
  c('vllm:time_in_queue_requests_sum', v0, 1)
  c('vllm:time_in_queue_requests_count', v0, 4)
  c('vllm:request_success_total', { ...v0, finished_reason: 'length' }, 3)
  for (const rank of ['0', '1']) {
    g('sglang:num_running_reqs', sgl(rank), 4)
    g('sglang:num_queue_reqs', sgl(rank), 6)
    g('sglang:token_usage', sgl(rank), 0.75)
    c('sglang:queue_time_seconds_sum', sgl(rank), 2)
    c('sglang:queue_time_seconds_count', sgl(rank), 2)
  }
  g('tgi_batch_current_size', tgi, 2)
  g('tgi_queue_size', tgi, 1)
  g('tgi_batch_current_max_tokens', tgi, 1000)
  g('tgi_batch_max_total_tokens', tgi, 4000)
  c('tgi_request_queue_duration_sum', tgi, 3)
  c('tgi_request_queue_duration_count', tgi, 2)
  g('llamacpp:requests_processing', llama, 1)
  g('llamacpp:requests_deferred', llama, 0)
  g('llamacpp:kv_cache_usage_ratio', llama, 0.125)
  g('llamacpp:kv_cache_tokens', llama, 1024)
  c('gen_ai_server_request_duration_seconds_count', { ...px, context_class: 'short' }, 6)
  const gpu = {
    job: 'inferwatch',
    instance: 'gpu-host:9464',
    gpu: '0',
    hw_id: 'GPU-0',
    hw_name: 'NVIDIA GeForce RTX 4090 D',
  }
  g('hw_gpu_memory_usage_bytes', gpu, 12e9)
  g('hw_gpu_memory_limit_bytes', gpu, 24e9)

  const o = (l: Labels, model?: string): Labels => ({
    job: l.job ?? '',
    instance: l.instance ?? '',
    engine: l.engine ?? '',
    ...(model ? { model } : {}),
  })
  const at = seconds(300 + step)
  const expect = (record: string, samples: [Labels, number][]): ExprTest => ({
    expr: `round(${record}, 0.001)`,
    eval_time: at,
    exp_samples: samples.map(([l, v]) => ({ labels: labelText(l), value: clean(v) })),
  })
  const proxyOut = { job: 'inferwatch', instance: 'proxy-a:9464', engine: 'vllm', model: MODEL }
  const r = (perStep: number) => Math.round((perStep / step) * 1000) / 1000
  return {
    name: 'recording rules: every engine under the llm:* names',
    interval: seconds(step),
    input_series: input,
    promql_expr_test: [
      expect('llm:requests_running:sum', [
        [o(v1, MODEL), 3],
        [o(v0, 'old-model'), 1],
        [o(sgl('0'), MODEL), 4],
        [o(tgi), 2],
        [o(llama), 1],
      ]),
      expect('llm:requests_waiting:sum', [
        [o(v1, MODEL), 2],
        [o(v0, 'old-model'), 0],
        [o(sgl('0'), MODEL), 6],
        [o(tgi), 1],
        [o(llama), 0],
      ]),
      expect('llm:kv_cache_usage:ratio', [
        [o(v1, MODEL), 0.5],
        [o(v0, 'old-model'), 0.25],
        [o(sgl('0'), MODEL), 0.75],
        [o(tgi), 0.25],
        [o(llama), 0.125],
      ]),
      expect('llm:queue_time_seconds:mean5m', [
        [o(v1, MODEL), 0.5],
        [o(v0, 'old-model'), 0.25],
        [o(sgl('0'), MODEL), 1],
        [o(tgi), 1.5],
      ]),
      // The proxy meters qwen3-4b: vLLM's own count for it is not added a second time.
      expect('llm:requests:rate1m', [
        [proxyOut, r(6)],
        [o(v0, 'old-model'), r(3)],
      ]),
      expect('llm:request_errors:ratio_rate5m', [[proxyOut, 0]]),
      expect('llm:long_context_requests:ratio_rate5m', [[proxyOut, 0]]),
      expect('llm:gpu_memory_usage:ratio', [
        [
          {
            job: 'inferwatch',
            instance: 'gpu-host:9464',
            gpu: '0',
            hw_id: 'GPU-0',
            hw_name: 'NVIDIA GeForce RTX 4090 D',
          },
          0.5,
        ],
      ]),
    ],
  }
}
