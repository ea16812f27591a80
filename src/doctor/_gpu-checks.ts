import type { EngineInfo } from '../engines/index.js'
import type { GpuSnapshot } from '../gpu/index.js'
import type { DoctorCheck, DoctorOptions } from './types.js'

// GPU memory facts: vLLM pre-allocates gpu_memory_utilization of the card at start (0.92 by default
// in current vLLM: https://github.com/vllm-project/vllm/blob/main/vllm/config/cache.py), so
// nvidia-smi shows ~90 %+ from the first second; the GPU-memory alert threshold must sit above it
// (README: Runbook, LLMGPUMemoryHigh).

const GIB = 1024 ** 3
const pct = (r: number) => `${Math.round(r * 100)}%`
/** nvidia-smi reads about the reserved fraction plus this (CUDA context), as `inferwatch rules` assumes. */
const CONTEXT_OVERHEAD_RATIO = 0.02

export interface GpuRead {
  check: DoctorCheck
  snapshot?: GpuSnapshot
}

export async function checkGpus(options: DoctorOptions, threshold: number): Promise<GpuRead> {
  const id = 'gpu.visible'
  const title = 'GPUs visible (nvidia-smi)'
  if (!options.readGpu)
    return { check: { id, title, status: 'skip', finding: 'GPU check not requested' } }
  let snapshot: GpuSnapshot
  try {
    snapshot = await options.readGpu()
  } catch (err) {
    return {
      check: {
        id,
        title,
        status: 'warn',
        finding: err instanceof Error ? err.message : String(err),
        fix: 'run doctor on the GPU host with the NVIDIA driver tools installed (or set gpu.nvidiaSmiPath); without nvidia-smi the hw_gpu_* metrics and LLMGPUMemoryHigh have no data (dcgm-exporter is the alternative source)',
      },
    }
  }
  if (snapshot.gpus.length === 0)
    return {
      check: {
        id,
        title,
        status: 'warn',
        finding: 'nvidia-smi lists no GPU',
        fix: 'check the driver (`nvidia-smi -L`)',
      },
      snapshot,
    }
  const describe = snapshot.gpus.map((g) => {
    const mem =
      g.memoryUsedBytes !== null && g.memoryTotalBytes !== null
        ? `${(g.memoryUsedBytes / GIB).toFixed(1)} of ${(g.memoryTotalBytes / GIB).toFixed(1)} GiB used`
        : 'memory not reported'
    return `GPU ${g.index} ${g.name}: ${mem}`
  })
  const hot = snapshot.gpus.filter(
    (g) => g.memoryUsedRatio !== null && g.memoryUsedRatio > threshold,
  )
  if (hot.length > 0)
    return {
      check: {
        id,
        title,
        status: 'warn',
        finding: `${describe.join('; ')} — above the ${pct(threshold)} alert threshold now, so LLMGPUMemoryHigh fires`,
        fix: 'see the GPU-memory threshold check below; nvidia-smi --query-compute-apps shows who holds the memory',
      },
      snapshot,
    }
  return { check: { id, title, status: 'pass', finding: describe.join('; ') }, snapshot }
}

export function checkKvCapacity(
  engine: EngineInfo | undefined,
  snapshot: GpuSnapshot | undefined,
  options: DoctorOptions,
): DoctorCheck {
  const id = 'engine.kv-capacity'
  const title = 'KV cache fits max context'
  if (!engine) return { id, title, status: 'skip', finding: 'the engine did not answer' }
  const maxLen = engine.maxModelLen
  if (!maxLen)
    return { id, title, status: 'skip', finding: 'the engine does not report its max context' }
  let kvTokens = engine.kvCacheTokens
  let source = 'reported by the engine'
  if (kvTokens === undefined) {
    const estimate = options.estimateKv?.(engine, snapshot)
    if (!estimate)
      return {
        id,
        title,
        status: 'skip',
        finding:
          'the engine does not report its KV capacity and no estimate is known for its model and GPU',
        fix: 'run `inferwatch plan --model M --gpu G` for the numbers',
      }
    kvTokens = estimate.kvTokens
    source = estimate.source
  }
  const fits = Math.floor(kvTokens / maxLen)
  const finding = `${kvTokens} KV tokens (${source}) vs max context ${maxLen}: ${fits} max-length request(s) fit at once`
  if (fits >= 1) return { id, title, status: 'pass', finding }
  return {
    id,
    title,
    status: 'fail',
    finding: `${finding}; one max-length request cannot fit`,
    fix: `lower --max-model-len to at most ${kvTokens} (vLLM: --max-model-len ${Math.floor(kvTokens / 1024) * 1024}), use --kv-cache-dtype fp8, or raise --gpu-memory-utilization; \`inferwatch plan\` shows the trade-off`,
  }
}

export function checkGpuThreshold(
  engine: EngineInfo | undefined,
  threshold: { ratio: number; source: string },
  options: DoctorOptions,
): DoctorCheck {
  const id = 'gpu.memory-threshold'
  const title = 'GPU-memory alert threshold'
  let util = engine?.gpuMemoryUtilization
  let from = engine?.provider === 'sglang' ? 'SGLang mem_fraction_static' : 'vllm:cache_config_info'
  let reported = true
  if (
    util === undefined &&
    options.gpuMemoryUtilization !== undefined &&
    engine?.provider === 'vllm'
  ) {
    util = options.gpuMemoryUtilization
    from = 'config gpuMemoryUtilization; the engine does not export vllm:cache_config_info'
    reported = false
  }
  if (util === undefined)
    return {
      id,
      title,
      status: 'skip',
      finding: engine
        ? `${engine.provider} does not report a pre-allocated GPU-memory fraction`
        : 'the engine did not answer',
    }
  const line = `LLMGPUMemoryHigh fires above ${pct(threshold.ratio)} (${threshold.source}); the engine reserves ${pct(util)} of the card at start (${from})`
  // Rounded: 0.9 + 0.02 must compare equal to 0.92.
  const floor = Math.round((util + CONTEXT_OVERHEAD_RATIO) * 1e4) / 1e4
  if (threshold.ratio >= floor) return { id, title, status: 'pass', finding: line }
  return {
    id,
    title,
    // A fraction taken from the config is a claim about the engine, not a measurement.
    status: reported ? 'fail' : 'warn',
    finding: `${line}; with the CUDA context nvidia-smi shows about ${pct(floor)} from the first second, so the alert would fire all the time`,
    fix: `raise alerts.gpuMemoryHigh.ratio to at least ${floor} (e.g. ${Math.min(0.99, floor + 0.03).toFixed(2)}) and regenerate the rules, or start the engine with a lower --gpu-memory-utilization${reported ? '' : ' (and set gpuMemoryUtilization in the config to match)'}; KV cache usage (LLMKVCacheHigh) is the pressure signal`,
  }
}
