import { AppError } from '../shared/index.js'
import { type GpuProfile, resolveGpu } from './gpus.js'
import { type ModelProfile, resolveModel } from './models.js'

export type KvCacheDtype = 'auto' | 'fp8'

export interface PlanInput {
  /** Built-in profile id / Hugging Face name, a config.json path, or a profile. */
  model?: string | ModelProfile
  /** Built-in GPU id or nvidia-smi name, or a profile. */
  gpu?: string | GpuProfile
  /** Overrides the profile's memory, e.g. the measured nvidia-smi memory.total. */
  gpuMemoryBytes?: number
  gpuMemoryUtilization?: number
  kvCacheDtype?: KvCacheDtype
  /** Default: the model's max_position_embeddings (what vLLM uses without --max-model-len). */
  maxModelLen?: number
  promptTokens?: number
  outputTokens?: number
  /** CUDA context, non-torch allocations, CUDA graphs and activation peak; default estimated. */
  overheadBytes?: number
}

export interface PlanResult {
  model: ModelProfile
  gpu: { id: string; name: string; memoryBytes: number; bandwidthBytesPerSecond: number }
  gpuMemoryUtilization: number
  kvCacheDtype: KvCacheDtype
  kvBytesPerElement: number
  blockSizeTokens: number
  maxModelLen: number
  promptTokens: number
  outputTokens: number
  weightBytes: number
  vllmBudgetBytes: number
  overheadBytes: number
  kvCacheBytes: number
  kvBytesPerToken: number
  kvTokenBudget: number
  /** The budget with no overhead at all: nothing can do better. */
  kvTokenBudgetUpperBound: number
  maxModelLenKvBytes: number
  maxModelLenFits: boolean
  /** Whether one max_model_len request would fit with fp8 KV (same other settings). */
  maxModelLenFitsWithFp8: boolean
  suggestedMaxModelLen: number
  concurrentRequests: number
  decodeTokensPerSecondSingle: number
  decodeTokensPerSecondTotal: number
  vllmArgs: string[]
  notes: string[]
}

// vLLM facts (https://github.com/vllm-project/vllm/tree/main/vllm): KV per token = 2 (K and V) x
// layers x kv_heads x head_dim x dtype bytes (v1/kv_cache_interface.py
// AttentionSpec.real_page_size_bytes); pages of 16 tokens (config/cache.py block_size); the KV pool
// = total x gpu_memory_utilization - weights - peak (v1/worker/gpu_worker.py
// determine_available_memory).
export const BLOCK_SIZE_TOKENS = 16
export const DEFAULT_GPU_MEMORY_UTILIZATION = 0.9
/** LLMGPUMemoryHigh's default threshold (README: Prometheus rules and alerts): the fraction must
 * stay below it. */
const GPU_MEMORY_ALERT_RATIO = 0.92
const WEIGHT_BYTES_PER_PARAM = 2 // bf16/fp16: vLLM's dtype "auto" for Qwen3
const PREFILL_CHUNK_TOKENS = 8192
const FIXED_OVERHEAD_BYTES = 1024 ** 3
const MAX_NUM_SEQS_DEFAULT = 256
const GIB = 1024 ** 3

/** Overhead estimate: 1 GiB (context, graphs, non-torch) + the activation peak of one prefill chunk. */
export function estimateOverheadBytes(m: ModelProfile): number {
  const mlpWidth = m.experts ? m.experts.perToken * m.experts.intermediateSize : m.intermediateSize
  return (
    FIXED_OVERHEAD_BYTES +
    PREFILL_CHUNK_TOKENS * (2 * mlpWidth + 4 * m.hiddenSize) * WEIGHT_BYTES_PER_PARAM
  )
}

function checkNumber(name: string, v: number, min: number, max: number, integer: boolean): number {
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new AppError(
      'USAGE',
      `${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${v}`,
      {
        hint: 'run `inferwatch plan --help`',
      },
    )
  }
  return v
}

/** Weight bytes read from memory per decode step for `batch` sequences (MoE: the experts they
 * hit); the engine simulator times its steps with it. */
export function weightBytesPerStep(m: ModelProfile, batch: number): number {
  const embeddingRows = m.tiedEmbeddings ? 0 : m.vocabSize * m.hiddenSize // lookup, not a matmul
  if (!m.experts) return (m.params - embeddingRows) * WEIGHT_BYTES_PER_PARAM
  const expert = 3 * m.hiddenSize * m.experts.intermediateSize
  const hit = Math.min(m.experts.count, batch * m.experts.perToken)
  const nonExpert = m.params - m.layers * m.experts.count * expert - embeddingRows
  return (nonExpert + m.layers * hit * expert) * WEIGHT_BYTES_PER_PARAM
}

export function planCapacity(input: PlanInput = {}): PlanResult {
  const model =
    typeof input.model === 'object'
      ? input.model
      : resolveModel(input.model ?? 'qwen3-4b-instruct-2507')
  const gpuProfile =
    typeof input.gpu === 'object' ? input.gpu : resolveGpu(input.gpu ?? 'rtx-4090d')
  const memoryBytes = checkNumber(
    'GPU memory (bytes)',
    input.gpuMemoryBytes ?? gpuProfile.memoryBytes,
    1,
    2 ** 50,
    false,
  )
  const util = checkNumber(
    '--gpu-memory-utilization',
    input.gpuMemoryUtilization ?? DEFAULT_GPU_MEMORY_UTILIZATION,
    0.05,
    1,
    false,
  )
  const kvCacheDtype = input.kvCacheDtype ?? 'auto'
  const maxModelLen = checkNumber(
    '--max-model-len',
    input.maxModelLen ?? model.maxContextTokens,
    1,
    2 ** 24,
    true,
  )
  const promptTokens = checkNumber('--prompt-tokens', input.promptTokens ?? 2048, 1, 2 ** 24, true)
  const outputTokens = checkNumber('--output-tokens', input.outputTokens ?? 512, 1, 2 ** 24, true)
  const overheadBytes = checkNumber(
    'overhead',
    input.overheadBytes ?? estimateOverheadBytes(model),
    0,
    2 ** 50,
    false,
  )

  const kvBytesPerElement = kvCacheDtype === 'fp8' ? 1 : 2
  const perTokenAt = (bytes: number) => 2 * model.layers * model.kvHeads * model.headDim * bytes
  const kvBytesPerToken = perTokenAt(kvBytesPerElement)
  const weightBytes = model.params * WEIGHT_BYTES_PER_PARAM
  const vllmBudgetBytes = memoryBytes * util
  const kvCacheBytes = Math.max(0, vllmBudgetBytes - weightBytes - overheadBytes)
  const blocksFor = (bytes: number, perToken: number) =>
    Math.floor(bytes / (perToken * BLOCK_SIZE_TOKENS))
  const blocks = blocksFor(kvCacheBytes, kvBytesPerToken)
  const kvTokenBudget = blocks * BLOCK_SIZE_TOKENS
  const kvTokenBudgetUpperBound =
    blocksFor(Math.max(0, vllmBudgetBytes - weightBytes), kvBytesPerToken) * BLOCK_SIZE_TOKENS
  const blocksPer = (tokens: number) => Math.ceil(tokens / BLOCK_SIZE_TOKENS)
  const maxModelLenKvBytes = blocksPer(maxModelLen) * BLOCK_SIZE_TOKENS * kvBytesPerToken
  const maxModelLenFits = blocks > 0 && blocksPer(maxModelLen) <= blocks
  const maxModelLenFitsWithFp8 = blocksPer(maxModelLen) <= blocksFor(kvCacheBytes, perTokenAt(1))
  // vLLM rejects a --max-model-len above the config's max_position_embeddings ("User-specified
  // max_model_len ... is greater than the derived max_model_len") unless rope scaling is configured.
  const overModelMax = maxModelLen > model.maxContextTokens
  const suggestedMaxModelLen = maxModelLenFits
    ? Math.min(maxModelLen, model.maxContextTokens)
    : Math.min(model.maxContextTokens, Math.floor(kvTokenBudget / 1024) * 1024 || kvTokenBudget)
  const concurrentRequests = Math.floor(blocks / blocksPer(promptTokens + outputTokens))

  // Decode is memory-bandwidth bound: each step reads the weights once plus every sequence's KV.
  const contextTokens = promptTokens + outputTokens / 2
  const bw = gpuProfile.bandwidthBytesPerSecond
  const stepSeconds = (batch: number) =>
    (weightBytesPerStep(model, batch) + batch * contextTokens * kvBytesPerToken) / bw
  const batch = Math.max(1, Math.min(concurrentRequests, MAX_NUM_SEQS_DEFAULT))
  const decodeTokensPerSecondSingle = 1 / stepSeconds(1)
  const decodeTokensPerSecondTotal = concurrentRequests > 0 ? batch / stepSeconds(batch) : 0

  const notes: string[] = []
  const vllmArgs: string[] = []
  const gib = (b: number) => `${(b / GIB).toFixed(2)} GiB`
  if (kvTokenBudget < BLOCK_SIZE_TOKENS) {
    notes.push(
      `the weights (${gib(weightBytes)}) and overhead (${gib(overheadBytes)}) leave no KV cache in ${gib(vllmBudgetBytes)}: use a bigger GPU, a higher --gpu-memory-utilization, a quantized model or tensor parallelism`,
    )
  } else {
    vllmArgs.push('serve', model.hfId, '--gpu-memory-utilization', String(util))
    vllmArgs.push('--max-model-len', String(suggestedMaxModelLen))
    if (concurrentRequests >= 1) vllmArgs.push('--max-num-seqs', String(batch))
    if (kvCacheDtype === 'fp8') vllmArgs.push('--kv-cache-dtype', 'fp8')
    if (!maxModelLenFits) {
      const fp8 =
        kvCacheDtype === 'fp8'
          ? ''
          : maxModelLenFitsWithFp8
            ? ' (it fits with --kv-cache-dtype fp8)'
            : `, not even with fp8 KV (${gib(maxModelLenKvBytes / 2)})`
      notes.push(
        `one ${maxModelLen}-token request needs ${gib(maxModelLenKvBytes)} of KV cache but only ${gib(kvCacheBytes)} is left${fp8}: vLLM refuses to start with this max_model_len, so pass --max-model-len ${suggestedMaxModelLen}`,
      )
    }
    if (overModelMax) {
      notes.push(
        `--max-model-len ${maxModelLen} is above the model's max context (max_position_embeddings ${model.maxContextTokens}): vLLM refuses to start unless rope scaling (YaRN) is configured, so pass --max-model-len ${suggestedMaxModelLen}`,
      )
    }
    if (concurrentRequests < 1) {
      notes.push(`not even one ${promptTokens}+${outputTokens}-token request fits in the KV cache`)
    }
  }
  if (util >= GPU_MEMORY_ALERT_RATIO) {
    notes.push(
      `vLLM reserves ${util} of the GPU at start, so nvidia-smi shows about ${(util * 100).toFixed(0)} % used from the first second: LLMGPUMemoryHigh (> 92 %) would fire; keep the fraction below the alert threshold (0.9 is the default here) or raise the threshold`,
    )
  }
  if (model.quantized)
    notes.push(
      'the config declares quantization: weight memory here assumes bf16 and is an upper bound',
    )
  notes.push(
    `overhead is an estimate (${gib(overheadBytes)}: CUDA context, CUDA graphs, activation peak of one ${PREFILL_CHUNK_TOKENS}-token prefill chunk); vLLM logs the real "Available KV cache memory" at start`,
  )
  return {
    model,
    gpu: { id: gpuProfile.id, name: gpuProfile.name, memoryBytes, bandwidthBytesPerSecond: bw },
    gpuMemoryUtilization: util,
    kvCacheDtype,
    kvBytesPerElement,
    blockSizeTokens: BLOCK_SIZE_TOKENS,
    maxModelLen,
    promptTokens,
    outputTokens,
    weightBytes,
    vllmBudgetBytes,
    overheadBytes,
    kvCacheBytes,
    kvBytesPerToken,
    kvTokenBudget,
    kvTokenBudgetUpperBound,
    maxModelLenKvBytes,
    maxModelLenFits,
    maxModelLenFitsWithFp8,
    suggestedMaxModelLen,
    concurrentRequests,
    decodeTokensPerSecondSingle,
    decodeTokensPerSecondTotal,
    vllmArgs,
    notes,
  }
}
