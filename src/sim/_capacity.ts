// What the simulated engine has to work with, from the capacity model (src/plan): the KV token
// budget from model, GPU and gpuMemoryUtilization, the context it serves (the model's, capped to
// what the KV cache holds, as vLLM refuses to start otherwise), and the memory its process takes
// on the card. vLLM, SGLang and TGI pre-allocate their fraction of the card at start (vLLM:
// gpu_memory_utilization x total, https://docs.vllm.ai/en/latest/configuration/conserving_memory.html)
// on top of the CUDA context created before; llama.cpp allocates weights, the KV cache of its
// whole context (-c, split over -np slots) and its compute buffers.
import { type PlanResult, planCapacity, resolveGpu } from '../plan/index.js'
import { AppError } from '../shared/index.js'
import type { EngineSimulatorOptions, SimEngine } from './simulator-types.js'

const MIB = 1048576
/** CUDA context and libraries loaded before the engine takes its memory snapshot: an estimate. */
export const CUDA_CONTEXT_BYTES = 500 * MIB
/** llama.cpp's compute buffers beside weights and KV: an estimate. */
const LLAMACPP_COMPUTE_BYTES = 400 * MIB
const LLAMACPP_CTX_ALIGN = 256

const DEFAULTS: Record<
  SimEngine,
  { maxNumSeqs: number; batchedTokens: number; blockSize: number }
> = {
  // vLLM V1 chunked prefill (8192 tokens a step, as plan assumes) and --max-num-seqs 256.
  vllm: { maxNumSeqs: 256, batchedTokens: 8192, blockSize: 16 },
  // SGLang --chunked-prefill-size 8192, page size 1.
  sglang: { maxNumSeqs: 256, batchedTokens: 8192, blockSize: 1 },
  // TGI --max-batch-prefill-tokens 4096.
  tgi: { maxNumSeqs: 256, batchedTokens: 4096, blockSize: 16 },
  // llama.cpp -np 4 slots, --batch-size 2048, one cell per token.
  llamacpp: { maxNumSeqs: 4, batchedTokens: 2048, blockSize: 1 },
}

export interface Capacity {
  plan: PlanResult
  flopsPerSecond: number | undefined
  maxModelLen: number
  kvTokenBudget: number
  blockSize: number
  kvBlocks: number
  maxNumSeqs: number
  maxBatchedTokens: number
  /** The engine process's memory once loaded, and the part that is weights. */
  engineBytes: number
  weightBytes: number
}

export interface CapacityInput {
  engine: SimEngine
  model: string
  gpu: string
  gpuMemoryUtilization: number
  maxModelLen?: number
  maxNumSeqs?: number
  maxNumBatchedTokens?: number
}

const refuse = (what: string, hint: string) =>
  new AppError('USAGE', `the simulated engine would not start: ${what}`, { hint })

export function resolveCapacity(o: CapacityInput): Capacity {
  const gpuProfile = resolveGpu(o.gpu)
  const d = DEFAULTS[o.engine]
  const maxNumSeqs = o.maxNumSeqs ?? d.maxNumSeqs
  const maxBatchedTokens = o.maxNumBatchedTokens ?? d.batchedTokens
  const input = { model: o.model, gpu: gpuProfile, gpuMemoryUtilization: o.gpuMemoryUtilization }
  const first = planCapacity(input)
  if (first.kvTokenBudget < first.blockSizeTokens)
    throw refuse(
      first.notes[0] ?? 'no memory left for the KV cache',
      'run `inferwatch plan` with the same --model, --gpu and --gpu-memory-utilization',
    )
  const modelMax = first.model.maxContextTokens
  if (o.maxModelLen !== undefined && o.maxModelLen > modelMax)
    throw refuse(
      `--max-model-len ${o.maxModelLen} is above the model's max context (${modelMax})`,
      `pass --max-model-len ${modelMax} or less`,
    )
  const total = gpuProfile.memoryBytes
  const flopsPerSecond = gpuProfile.bf16FlopsPerSecond
  if (o.engine === 'llamacpp') {
    // The whole -c must fit in the memory the KV cache may take; a slot serves -c / -np.
    const budget = first.kvTokenBudget
    const perSlot =
      o.maxModelLen ??
      Math.min(modelMax, Math.floor(budget / maxNumSeqs / LLAMACPP_CTX_ALIGN) * LLAMACPP_CTX_ALIGN)
    const ctx = perSlot * maxNumSeqs
    if (perSlot < 1 || ctx > budget)
      throw refuse(
        `a ${maxNumSeqs}-slot context of ${ctx} tokens needs more KV memory than the card has (${budget} tokens)`,
        `pass a smaller --max-model-len (per slot) or fewer --max-num-seqs (slots)`,
      )
    const plan = planCapacity({ ...input, maxModelLen: perSlot })
    return {
      plan,
      flopsPerSecond,
      maxModelLen: perSlot,
      kvTokenBudget: ctx,
      blockSize: 1,
      kvBlocks: ctx,
      maxNumSeqs,
      maxBatchedTokens,
      engineBytes:
        CUDA_CONTEXT_BYTES + plan.weightBytes + ctx * plan.kvBytesPerToken + LLAMACPP_COMPUTE_BYTES,
      weightBytes: plan.weightBytes,
    }
  }
  const maxModelLen = o.maxModelLen ?? first.suggestedMaxModelLen
  const plan = planCapacity({ ...input, maxModelLen })
  if (!plan.maxModelLenFits)
    throw refuse(
      `one ${maxModelLen}-token request needs more KV cache than the ${plan.kvTokenBudget} tokens that fit`,
      `pass --max-model-len ${plan.suggestedMaxModelLen} or less`,
    )
  const blockSize = d.blockSize
  const kvTokenBudget = plan.kvTokenBudget
  return {
    plan,
    flopsPerSecond,
    maxModelLen,
    kvTokenBudget,
    blockSize,
    kvBlocks: Math.floor(kvTokenBudget / blockSize),
    maxNumSeqs,
    maxBatchedTokens,
    engineBytes: CUDA_CONTEXT_BYTES + o.gpuMemoryUtilization * total,
    weightBytes: plan.weightBytes,
  }
}

const ENGINES: readonly SimEngine[] = ['vllm', 'sglang', 'tgi', 'llamacpp']

export function checkSimulatorOptions(o: EngineSimulatorOptions): void {
  if (!ENGINES.includes(o.engine))
    throw new AppError('USAGE', `unknown engine "${o.engine}"`, {
      hint: `use one of ${ENGINES.join(', ')}`,
    })
  if (!(o.speed > 0) || !Number.isFinite(o.speed))
    throw new AppError('USAGE', `speed must be a number above 0, got ${o.speed}`, {
      hint: 'e.g. --speed 10',
    })
  if (!(o.gpuMemoryUtilization > 0 && o.gpuMemoryUtilization <= 1))
    throw new AppError(
      'USAGE',
      `gpuMemoryUtilization must be in (0, 1], got ${o.gpuMemoryUtilization}`,
      {
        hint: 'e.g. --gpu-memory-utilization 0.9',
      },
    )
}
