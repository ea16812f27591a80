// A small vLLM-like /metrics (V1 names, https://docs.vllm.ai/en/latest/usage/metrics.html) for
// tests of rules and doctor.

export interface ScriptedGauges {
  /** vllm:kv_cache_usage_perc, a 0-1 ratio despite the name. */
  kvCacheUsage: number
  running: number
  waiting: number
  preemptionsTotal: number
}

export function renderEngineMetrics(
  model: string,
  gauges: Partial<ScriptedGauges>,
  totals: { prompt: number; generation: number; success: number },
): string {
  const labels = `{engine="0",model_name="${model.replace(/["\\\n]/g, '_')}"}`
  const lines: string[] = []
  const metric = (
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    value: number,
    extra = '',
  ) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    const l = extra ? `${labels.slice(0, -1)},${extra}}` : labels
    lines.push(`${name}${l} ${Number.isInteger(value) ? value.toFixed(1) : value}`)
  }
  metric(
    'vllm:num_requests_running',
    'gauge',
    'Number of requests in model execution batches.',
    gauges.running ?? 0,
  )
  metric(
    'vllm:num_requests_waiting',
    'gauge',
    'Number of requests waiting to be processed.',
    gauges.waiting ?? 0,
  )
  metric(
    'vllm:kv_cache_usage_perc',
    'gauge',
    'KV-cache usage. 1 means 100 percent usage.',
    gauges.kvCacheUsage ?? 0,
  )
  metric(
    'vllm:num_preemptions_total',
    'counter',
    'Cumulative number of preemption from the engine.',
    gauges.preemptionsTotal ?? 0,
  )
  metric(
    'vllm:prompt_tokens_total',
    'counter',
    'Number of prefill tokens processed.',
    totals.prompt,
  )
  metric(
    'vllm:generation_tokens_total',
    'counter',
    'Number of generation tokens processed.',
    totals.generation,
  )
  metric(
    'vllm:request_success_total',
    'counter',
    'Count of successfully processed requests.',
    totals.success,
    'finished_reason="length"',
  )
  return `${lines.join('\n')}\n`
}
