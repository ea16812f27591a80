import type { PlanResult } from './plan.js'

const GIB = 1024 ** 3
const gib = (b: number) => `${(b / GIB).toFixed(2)} GiB`
const int = (n: number) => Math.round(n).toLocaleString('en-US')

/** The `inferwatch plan` table. */
export function renderPlan(r: PlanResult): string {
  const m = r.model
  const kvDtype = r.kvCacheDtype === 'fp8' ? 'fp8' : 'auto (bf16)'
  const moe = m.experts
    ? `, MoE ${m.experts.perToken}/${m.experts.count} experts, ${(m.activeParams / 1e9).toFixed(2)} B active`
    : ''
  const rows: [string, string][] = [
    [
      'model',
      `${m.hfId}: ${(m.params / 1e9).toFixed(2)} B params${moe}, max context ${m.maxContextTokens}`,
    ],
    [
      'GPU',
      `${r.gpu.name}: ${gib(r.gpu.memoryBytes)}, ${(r.gpu.bandwidthBytesPerSecond / 1e9).toFixed(0)} GB/s`,
    ],
    ['weights (bf16)', gib(r.weightBytes)],
    [
      'vLLM budget',
      `${gib(r.vllmBudgetBytes)} (--gpu-memory-utilization ${r.gpuMemoryUtilization} x GPU memory)`,
    ],
    ['overhead (estimate)', gib(r.overheadBytes)],
    ['KV cache', `${gib(r.kvCacheBytes)} (--kv-cache-dtype ${kvDtype})`],
    [
      'KV per token',
      `${int(r.kvBytesPerToken / 1024)} KiB (2 x ${m.layers} layers x ${m.kvHeads} KV heads x ${m.headDim} x ${r.kvBytesPerElement} B)`,
    ],
    [
      'KV token budget',
      `${int(r.kvTokenBudget)} tokens (at most ${int(r.kvTokenBudgetUpperBound)} with no overhead)`,
    ],
    [
      `max_model_len ${r.maxModelLen}`,
      r.maxModelLenFits
        ? `fits (one request needs ${gib(r.maxModelLenKvBytes)} of KV)`
        : `does NOT fit: one request needs ${gib(r.maxModelLenKvBytes)} of KV`,
    ],
    [
      'concurrency',
      `${int(r.concurrentRequests)} requests of ${r.promptTokens} + ${r.outputTokens} tokens at once`,
    ],
    [
      'decode ceiling',
      r.concurrentRequests < 1
        ? 'n/a (nothing fits)'
        : `${int(r.decodeTokensPerSecondSingle)} tokens/s for one request, ${int(r.decodeTokensPerSecondTotal)} tokens/s in total (memory-bandwidth bound)`,
    ],
  ]
  const width = Math.max(...rows.map(([k]) => k.length)) + 2
  const lines = rows.map(([k, v]) => `  ${k.padEnd(width)}${v}`)
  lines.unshift(`Capacity plan for ${m.id} on ${r.gpu.id}`)
  lines.push('')
  if (r.vllmArgs.length) lines.push('vLLM:', `  vllm ${r.vllmArgs.join(' ')}`, '')
  if (r.notes.length) lines.push('Notes:', ...r.notes.map((n) => `  - ${n}`))
  return `${lines.join('\n')}\n`
}
