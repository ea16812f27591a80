import {
  DEFAULT_GPU_MEMORY_UTILIZATION,
  GPU_PROFILES,
  type KvCacheDtype,
  MODEL_PROFILES,
  planCapacity,
  renderPlan,
} from '../../plan/index.js'
import { AppError } from '../../shared/index.js'
import { boolFlag, numberFlag, stringFlag } from '../_flags.js'
import type { Command, ParsedArgs } from '../command.js'

const GIB = 1024 ** 3
const PLAN_NUMBER = { integer: false, command: 'plan' }

function kvDtype(args: ParsedArgs): KvCacheDtype | undefined {
  const raw = stringFlag(args, 'kv-cache-dtype')
  if (raw === undefined || raw === 'auto' || raw === 'fp8') return raw
  throw new AppError('USAGE', `--kv-cache-dtype must be auto or fp8, got "${raw}"`, {
    hint: 'fp8 halves the KV cache per token (vLLM --kv-cache-dtype fp8)',
  })
}

export const planCommand: Command = {
  name: 'plan',
  summary: 'capacity math: KV tokens that fit, whether max_model_len fits, safe concurrency',
  usage:
    'inferwatch plan [--model M|config.json] [--gpu G] [--gpu-memory-utilization F] [--kv-cache-dtype auto|fp8] [--max-model-len N] [--json]',
  options: {
    model: {
      type: 'string',
      valueName: 'M',
      description:
        'built-in model (below) or a Hugging Face config.json path (default qwen3-4b-instruct-2507)',
    },
    gpu: {
      type: 'string',
      valueName: 'G',
      description: 'built-in GPU (below) (default rtx-4090d)',
    },
    'gpu-memory-utilization': {
      type: 'string',
      valueName: 'F',
      description: `vLLM's fraction of GPU memory (default ${DEFAULT_GPU_MEMORY_UTILIZATION})`,
    },
    'kv-cache-dtype': {
      type: 'string',
      valueName: 'auto|fp8',
      description: 'KV cache element type (default auto = bf16)',
    },
    'max-model-len': {
      type: 'string',
      valueName: 'N',
      description: "longest request, tokens (default: the model's max_position_embeddings)",
    },
    'prompt-tokens': {
      type: 'string',
      valueName: 'N',
      description: 'typical prompt length for concurrency, tokens (default 2048)',
    },
    'output-tokens': {
      type: 'string',
      valueName: 'N',
      description: 'typical output length, tokens (default 512)',
    },
    'gpu-memory-gib': {
      type: 'string',
      valueName: 'N',
      description:
        "GPU memory in GiB instead of the profile's (e.g. nvidia-smi memory.total / 1024)",
    },
    'overhead-gib': {
      type: 'string',
      valueName: 'N',
      description:
        'non-KV, non-weight memory in GiB (default: estimated from the model, about 1.5)',
    },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  details: [
    `Models: ${MODEL_PROFILES.map((m) => m.id).join(', ')}`,
    `GPUs:   ${GPU_PROFILES.map((g) => g.id).join(', ')}`,
    '',
    'Math (vLLM): KV per token = 2 x layers x KV heads x head_dim x dtype bytes; KV cache = GPU memory x',
    '--gpu-memory-utilization - bf16 weights - overhead, in blocks of 16 tokens. vLLM refuses to start when',
    'one max_model_len request does not fit. The decode ceiling is memory bandwidth / bytes read per step.',
    `The default fraction is ${DEFAULT_GPU_MEMORY_UTILIZATION} although current vLLM defaults to 0.92 (0.9 before): vLLM reserves the`,
    'whole fraction at start, so with 0.92 nvidia-smi sits at the 92 % GPU-memory alert from the first second.',
  ].join('\n'),
  examples: [
    'inferwatch plan',
    'inferwatch plan --max-model-len 65536 --kv-cache-dtype fp8',
    'inferwatch plan --model qwen3-30b-a3b-instruct-2507 --gpu h200 --json',
    'inferwatch plan --model ./Qwen3-8B/config.json --gpu l40s',
  ],
  async run(args, io) {
    const memGib = numberFlag(args, 'gpu-memory-gib', PLAN_NUMBER)
    const overheadGib = numberFlag(args, 'overhead-gib', PLAN_NUMBER)
    const result = planCapacity({
      model: stringFlag(args, 'model') ?? 'qwen3-4b-instruct-2507',
      gpu: stringFlag(args, 'gpu') ?? 'rtx-4090d',
      ...(memGib !== undefined ? { gpuMemoryBytes: memGib * GIB } : {}),
      ...(overheadGib !== undefined ? { overheadBytes: overheadGib * GIB } : {}),
      gpuMemoryUtilization:
        numberFlag(args, 'gpu-memory-utilization', PLAN_NUMBER) ?? DEFAULT_GPU_MEMORY_UTILIZATION,
      kvCacheDtype: kvDtype(args) ?? 'auto',
      ...optionalInt(args, 'max-model-len', 'maxModelLen'),
      ...optionalInt(args, 'prompt-tokens', 'promptTokens'),
      ...optionalInt(args, 'output-tokens', 'outputTokens'),
    })
    io.stdout(boolFlag(args, 'json') ? `${JSON.stringify(result, null, 2)}\n` : renderPlan(result))
    return 0
  },
}

function optionalInt(args: ParsedArgs, flag: string, key: string): Record<string, number> {
  const v = numberFlag(args, flag, { integer: true, command: 'plan' })
  return v === undefined ? {} : { [key]: v }
}
