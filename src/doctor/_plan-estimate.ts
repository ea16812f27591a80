import type { EngineInfo } from '../engines/index.js'
import type { GpuSnapshot } from '../gpu/index.js'
import {
  DEFAULT_GPU_MEMORY_UTILIZATION,
  findGpuProfile,
  findModelProfile,
  type GpuProfile,
  planCapacity,
} from '../plan/index.js'
import type { KvEstimate } from './types.js'

const GIB = 1024 ** 3

/**
 * KV tokens vLLM would get for this engine's model on the GPU nvidia-smi shows (src/plan: vLLM's
 * memory arithmetic, README: `inferwatch plan`). Only for engines with vLLM's memory model (vLLM,
 * SGLang, generic) whose model is a built-in profile; undefined otherwise.
 */
export function estimateKvWithPlan(
  engine: EngineInfo,
  gpu: GpuSnapshot | undefined,
  configuredUtilization: number | undefined,
): KvEstimate | undefined {
  if (engine.provider === 'tgi' || engine.provider === 'llamacpp') return undefined
  const model = [engine.modelPath, ...engine.models]
    .filter((n): n is string => typeof n === 'string')
    .map((n) => findModelProfile(n))
    .find((m) => m !== undefined)
  const card = gpu?.gpus[0]
  if (!model || !card || card.memoryTotalBytes === null) return undefined
  // Only the memory matters for KV; bandwidth (decode speed) is not used here.
  const profile: GpuProfile = findGpuProfile(card.name) ?? {
    id: 'measured',
    name: card.name,
    memoryBytes: card.memoryTotalBytes,
    bandwidthBytesPerSecond: 1e12,
    hwNames: /^$/,
  }
  const util =
    engine.gpuMemoryUtilization ?? configuredUtilization ?? DEFAULT_GPU_MEMORY_UTILIZATION
  const plan = planCapacity({
    model,
    gpu: profile,
    gpuMemoryBytes: card.memoryTotalBytes,
    gpuMemoryUtilization: util,
    ...(engine.maxModelLen ? { maxModelLen: engine.maxModelLen } : {}),
  })
  return {
    kvTokens: plan.kvTokenBudget,
    source: `plan estimate: ${model.id} on ${card.name} (${(card.memoryTotalBytes / GIB).toFixed(1)} GiB) at gpu_memory_utilization ${util}`,
  }
}
