import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { AppError } from '../shared/index.js'

/** What the capacity math needs from a model: its Hugging Face config.json facts. */
export interface ModelProfile {
  id: string
  /** Hugging Face repo id, used in the `vllm serve` line. */
  hfId: string
  layers: number
  attentionHeads: number
  kvHeads: number
  headDim: number
  hiddenSize: number
  intermediateSize: number
  vocabSize: number
  /** vLLM's derived max_model_len: max_position_embeddings, scaled by rope_scaling (YaRN). */
  maxContextTokens: number
  tiedEmbeddings: boolean
  experts: { count: number; perToken: number; intermediateSize: number } | null
  /** Total parameters, computed from the config (the layout of modelFromHfConfig). */
  params: number
  /** Parameters one token passes through (differs from params for MoE). */
  activeParams: number
  /** Where the facts came from: "built-in" or the config.json path. */
  source: string
  quantized: boolean
}

// Hugging Face config.json, parsed strictly for the keys we use (others are ignored: configs
// carry dozens). Missing num_key_value_heads means MHA; missing head_dim means hidden/heads.
const hfConfigSchema = z.object({
  model_type: z.string().optional(),
  hidden_size: z.int().positive(),
  intermediate_size: z.int().positive(),
  num_hidden_layers: z.int().positive(),
  num_attention_heads: z.int().positive(),
  num_key_value_heads: z.int().positive().nullish(),
  head_dim: z.int().positive().nullish(),
  vocab_size: z.int().positive(),
  max_position_embeddings: z.int().positive().nullish(),
  tie_word_embeddings: z.boolean().nullish(),
  num_experts: z.int().positive().nullish(),
  num_experts_per_tok: z.int().positive().nullish(),
  moe_intermediate_size: z.int().positive().nullish(),
  quantization_config: z.unknown().optional(),
  rope_scaling: z
    .object({
      rope_type: z.string().optional(),
      type: z.string().optional(),
      factor: z.number().positive().optional(),
      original_max_position_embeddings: z.int().positive().optional(),
    })
    .nullish(),
})

/**
 * The max_model_len vLLM derives from config.json (config.py _get_and_verify_max_len):
 * max_position_embeddings, times the rope_scaling factor except for su/longrope/llama3/mrope;
 * YaRN scales original_max_position_embeddings. A longer --max-model-len makes vLLM refuse to start.
 */
function derivedMaxContext(c: z.output<typeof hfConfigSchema>): number {
  const base = c.max_position_embeddings ?? 4096
  const rs = c.rope_scaling
  const kind = rs?.rope_type ?? rs?.type
  if (!rs?.factor || kind === undefined || ['su', 'longrope', 'llama3', 'mrope'].includes(kind))
    return base
  const from = kind === 'yarn' ? (rs.original_max_position_embeddings ?? base) : base
  return Math.floor(from * rs.factor)
}

export type HfConfig = z.input<typeof hfConfigSchema>

/** A profile from config.json facts; params follow the Qwen3/Llama layout
 * (https://github.com/huggingface/transformers/tree/main/src/transformers/models/qwen3). */
export function modelFromHfConfig(
  raw: unknown,
  id: string,
  hfId: string,
  source: string,
): ModelProfile {
  const parsed = hfConfigSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new AppError(
      'PLAN_UNKNOWN_MODEL',
      `${source} is not a usable Hugging Face config.json: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
      {
        hint: 'pass the config.json of a decoder-only model (num_hidden_layers, num_key_value_heads, head_dim, ...)',
      },
    )
  }
  const c = parsed.data
  const kvHeads = c.num_key_value_heads ?? c.num_attention_heads
  const headDim = c.head_dim ?? Math.floor(c.hidden_size / c.num_attention_heads)
  const h = c.hidden_size
  const qkNorm = c.model_type === 'qwen3' || c.model_type === 'qwen3_moe' ? 2 * headDim : 0
  const attention = 2 * h * c.num_attention_heads * headDim + 2 * h * kvHeads * headDim + qkNorm
  const norms = 2 * h
  const experts =
    c.num_experts && c.num_experts_per_tok && c.moe_intermediate_size
      ? {
          count: c.num_experts,
          perToken: c.num_experts_per_tok,
          intermediateSize: c.moe_intermediate_size,
        }
      : null
  const expert = experts ? 3 * h * experts.intermediateSize : 0
  const router = experts ? h * experts.count : 0
  const mlp = experts ? experts.count * expert + router : 3 * h * c.intermediate_size
  const mlpActive = experts ? experts.perToken * expert + router : mlp
  const tied = c.tie_word_embeddings ?? false
  const embeddings = c.vocab_size * h * (tied ? 1 : 2) + h // + final norm
  return {
    id,
    hfId,
    layers: c.num_hidden_layers,
    attentionHeads: c.num_attention_heads,
    kvHeads,
    headDim,
    hiddenSize: h,
    intermediateSize: c.intermediate_size,
    vocabSize: c.vocab_size,
    maxContextTokens: derivedMaxContext(c),
    tiedEmbeddings: tied,
    experts,
    params: c.num_hidden_layers * (attention + mlp + norms) + embeddings,
    activeParams: c.num_hidden_layers * (attention + mlpActive + norms) + embeddings,
    source,
    quantized: c.quantization_config !== undefined && c.quantization_config !== null,
  }
}

const QWEN3_VOCAB = 151936
const dense = (
  hidden: number,
  inter: number,
  layers: number,
  heads: number,
  tied: boolean,
  maxPos = 40960,
) => ({
  model_type: 'qwen3',
  hidden_size: hidden,
  intermediate_size: inter,
  num_hidden_layers: layers,
  num_attention_heads: heads,
  num_key_value_heads: 8,
  head_dim: 128,
  vocab_size: QWEN3_VOCAB,
  max_position_embeddings: maxPos,
  tie_word_embeddings: tied,
})
const moe30b = (maxPos: number) => ({
  model_type: 'qwen3_moe',
  hidden_size: 2048,
  intermediate_size: 6144,
  num_hidden_layers: 48,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  head_dim: 128,
  vocab_size: QWEN3_VOCAB,
  max_position_embeddings: maxPos,
  tie_word_embeddings: false,
  num_experts: 128,
  num_experts_per_tok: 8,
  moe_intermediate_size: 768,
})

// config.json facts of the Qwen3 family, from their Hugging Face config.json files (e.g.
// https://huggingface.co/Qwen/Qwen3-4B-Instruct-2507/blob/main/config.json). The 2507 releases
// raise max_position_embeddings to 262144 (natively, rope_theta 5e6); the original Qwen3 releases
// have 40960.
const BUILT_IN: [id: string, hfId: string, config: HfConfig][] = [
  [
    'qwen3-4b-instruct-2507',
    'Qwen/Qwen3-4B-Instruct-2507',
    dense(2560, 9728, 36, 32, true, 262144),
  ],
  [
    'qwen3-4b-thinking-2507',
    'Qwen/Qwen3-4B-Thinking-2507',
    dense(2560, 9728, 36, 32, true, 262144),
  ],
  ['qwen3-0.6b', 'Qwen/Qwen3-0.6B', dense(1024, 3072, 28, 16, true)],
  ['qwen3-1.7b', 'Qwen/Qwen3-1.7B', dense(2048, 6144, 28, 16, true)],
  ['qwen3-4b', 'Qwen/Qwen3-4B', dense(2560, 9728, 36, 32, true)],
  ['qwen3-8b', 'Qwen/Qwen3-8B', dense(4096, 12288, 36, 32, false)],
  ['qwen3-14b', 'Qwen/Qwen3-14B', dense(5120, 17408, 40, 40, false)],
  ['qwen3-32b', 'Qwen/Qwen3-32B', dense(5120, 25600, 64, 64, false)],
  ['qwen3-30b-a3b', 'Qwen/Qwen3-30B-A3B', moe30b(40960)],
  ['qwen3-30b-a3b-instruct-2507', 'Qwen/Qwen3-30B-A3B-Instruct-2507', moe30b(262144)],
]

export const MODEL_PROFILES: readonly Readonly<ModelProfile>[] = Object.freeze(
  BUILT_IN.map(([id, hfId, config]) =>
    Object.freeze(modelFromHfConfig(config, id, hfId, 'built-in')),
  ),
)

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9.]/g, '')

/** A built-in profile by id or Hugging Face name ("Qwen/Qwen3-8B", "qwen3-8b"), else undefined. */
export function findModelProfile(name: string): ModelProfile | undefined {
  const bare = norm(name.split('/').pop() ?? name)
  return MODEL_PROFILES.find((m) => norm(m.id) === bare)
}

/** `--model`: a built-in profile, or a path to a Hugging Face config.json. */
export function resolveModel(nameOrPath: string): ModelProfile {
  const found = findModelProfile(nameOrPath)
  if (found) return found
  if (nameOrPath.endsWith('.json')) {
    let text: string
    try {
      text = readFileSync(nameOrPath, 'utf8')
    } catch (cause) {
      throw new AppError('PLAN_UNKNOWN_MODEL', `cannot read ${nameOrPath}`, {
        cause,
        hint: 'check the path of the config.json',
      })
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (cause) {
      throw new AppError('PLAN_UNKNOWN_MODEL', `${nameOrPath} is not JSON`, {
        cause,
        hint: "pass the model's config.json",
      })
    }
    const name =
      nameOrPath
        .replace(/\/?config\.json$/, '')
        .split('/')
        .pop() || 'custom'
    return modelFromHfConfig(json, name.toLowerCase(), name, nameOrPath)
  }
  throw new AppError('PLAN_UNKNOWN_MODEL', `no built-in model profile "${nameOrPath}"`, {
    hint: `use one of ${MODEL_PROFILES.map((m) => m.id).join(', ')}, or --model path/to/config.json`,
  })
}
