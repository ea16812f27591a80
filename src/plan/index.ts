// Capacity planner: weights, KV bytes per token, KV token budget, concurrency and a decode ceiling
// for a model on a GPU under vLLM; `doctor` calls planCapacity for its KV-capacity check.
export { findGpuProfile, GPU_PROFILES, type GpuProfile, resolveGpu } from './gpus.js'
export {
  findModelProfile,
  type HfConfig,
  MODEL_PROFILES,
  type ModelProfile,
  modelFromHfConfig,
  resolveModel,
} from './models.js'
export {
  BLOCK_SIZE_TOKENS,
  DEFAULT_GPU_MEMORY_UTILIZATION,
  estimateOverheadBytes,
  type KvCacheDtype,
  type PlanInput,
  type PlanResult,
  planCapacity,
  weightBytesPerStep,
} from './plan.js'
export { renderPlan } from './render.js'
