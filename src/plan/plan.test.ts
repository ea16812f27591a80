import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { isAppError } from '../shared/index.js'
import {
  findGpuProfile,
  findModelProfile,
  MODEL_PROFILES,
  planCapacity,
  resolveModel,
} from './index.js'

const GIB = 1024 ** 3

// Qwen3-4B-Instruct-2507 (https://huggingface.co/Qwen/Qwen3-4B-Instruct-2507) on one RTX 4090 D
// (24564 MiB): 2 x 36 layers x 8 KV heads x 128 x 2 B = 144 KiB of KV per token.
test('worked example: 144 KiB per token, 7.49 GiB weights, ~90K-100K tokens at 0.9 on 24 GB', () => {
  const r = planCapacity({
    model: 'qwen3-4b-instruct-2507',
    gpu: 'rtx-4090d',
    gpuMemoryUtilization: 0.9,
  })
  assert.equal(r.kvBytesPerToken, 147_456)
  assert.equal(r.model.params, 4_022_468_096)
  assert.equal(r.weightBytes, 8_044_936_192)
  assert.ok(r.kvTokenBudget >= 88_000 && r.kvTokenBudget <= 100_000, `budget ${r.kvTokenBudget}`)
  // upper bound with no overhead: <= 102,651 tokens (in 16-token blocks)
  assert.ok(r.kvTokenBudgetUpperBound <= 102_651 && r.kvTokenBudgetUpperBound > 102_600)
  const at092 = planCapacity({ gpuMemoryUtilization: 0.92 })
  assert.ok(at092.kvTokenBudgetUpperBound <= 106_144 && at092.kvTokenBudgetUpperBound > 106_100)
  assert.ok(
    at092.notes.some((n) => /LLMGPUMemoryHigh/.test(n)),
    'warns that 0.92 sits at the alert threshold',
  )
  assert.ok(!r.notes.some((n) => /LLMGPUMemoryHigh/.test(n)))
})

test('worked example: one 262144-token request needs 36 GiB and cannot fit, not even with fp8', () => {
  const r = planCapacity()
  assert.equal(r.maxModelLen, 262_144)
  assert.equal(r.maxModelLenKvBytes, 36 * GIB)
  assert.equal(r.maxModelLenFits, false)
  assert.equal(r.maxModelLenFitsWithFp8, false)
  assert.ok(r.suggestedMaxModelLen <= r.kvTokenBudget && r.suggestedMaxModelLen > 80_000)
  assert.deepEqual(r.vllmArgs.slice(0, 6), [
    'serve',
    'Qwen/Qwen3-4B-Instruct-2507',
    '--gpu-memory-utilization',
    '0.9',
    '--max-model-len',
    String(r.suggestedMaxModelLen),
  ])
  const fp8 = planCapacity({ kvCacheDtype: 'fp8' })
  assert.equal(fp8.kvBytesPerToken, 73_728)
  assert.equal(fp8.maxModelLenKvBytes, 18 * GIB)
  assert.equal(fp8.maxModelLenFits, false)
  assert.ok(fp8.kvTokenBudget >= 2 * r.kvTokenBudget - 16)
  assert.ok(fp8.vllmArgs.includes('fp8'))
})

test('a max_model_len that fits is kept; concurrency follows the typical lengths', () => {
  const r = planCapacity({ maxModelLen: 65_536, promptTokens: 4096, outputTokens: 1024 })
  assert.equal(r.maxModelLenFits, true)
  assert.equal(r.suggestedMaxModelLen, 65_536)
  assert.equal(r.concurrentRequests, Math.floor(r.kvTokenBudget / 16 / Math.ceil(5120 / 16)))
  const shorter = planCapacity({ maxModelLen: 65_536, promptTokens: 1024, outputTokens: 256 })
  assert.ok(shorter.concurrentRequests > r.concurrentRequests)
  assert.ok(shorter.decodeTokensPerSecondTotal > shorter.decodeTokensPerSecondSingle)
  // one stream reads the 8 GB of weights per token: ~1008 GB/s / 8.04 GB
  assert.ok(r.decodeTokensPerSecondSingle > 100 && r.decodeTokensPerSecondSingle < 126)
})

test('a --max-model-len above the model max context is never suggested to vLLM', () => {
  // Qwen3-4B (not 2507) has max_position_embeddings 40960; vLLM rejects a longer max_model_len.
  const r = planCapacity({ model: 'qwen3-4b', maxModelLen: 60_000 })
  assert.equal(r.model.maxContextTokens, 40_960)
  assert.equal(r.maxModelLenFits, true)
  assert.equal(r.suggestedMaxModelLen, 40_960)
  assert.equal(r.vllmArgs[r.vllmArgs.indexOf('--max-model-len') + 1], '40960')
  assert.ok(r.notes.some((n) => /above the model's max context .*40960.*rope scaling/.test(n)))
  const within = planCapacity({ model: 'qwen3-4b', maxModelLen: 32_768 })
  assert.equal(within.suggestedMaxModelLen, 32_768)
  assert.ok(!within.notes.some((n) => /above the model's max context/.test(n)))
})

test('fits with fp8 is said; weights that do not fit give no vLLM line', () => {
  const r = planCapacity({ maxModelLen: 131_072 })
  assert.equal(r.maxModelLenFits, false)
  assert.equal(r.maxModelLenFitsWithFp8, true)
  assert.ok(r.notes.some((n) => /fits with --kv-cache-dtype fp8/.test(n)))
  const big = planCapacity({ model: 'qwen3-32b', gpu: 'rtx-4090' })
  assert.equal(big.kvTokenBudget, 0)
  assert.deepEqual(big.vllmArgs, [])
  assert.match(big.notes[0] ?? '', /leave no KV cache/)
  const h200 = planCapacity({ model: 'qwen3-32b', gpu: 'h200' })
  assert.equal(h200.maxModelLenFits, true)
})

test('model profiles reproduce the model cards; MoE active parameters', () => {
  const billions: Record<string, number> = {
    'qwen3-0.6b': 0.6,
    'qwen3-1.7b': 1.7,
    'qwen3-4b': 4.0,
    'qwen3-8b': 8.2,
    'qwen3-14b': 14.8,
    'qwen3-32b': 32.8,
    'qwen3-30b-a3b': 30.5,
  }
  for (const [id, b] of Object.entries(billions)) {
    const m = findModelProfile(id)
    assert.ok(m, id)
    assert.ok(Math.abs(m.params / 1e9 - b) / b < 0.02, `${id}: ${m.params}`)
  }
  const moe = findModelProfile('Qwen/Qwen3-30B-A3B-Instruct-2507')
  assert.ok(moe && Math.abs(moe.activeParams / 1e9 - 3.3) < 0.1)
  assert.equal(moe?.maxContextTokens, 262_144)
  assert.equal(MODEL_PROFILES[0]?.id, 'qwen3-4b-instruct-2507')
})

test('--model config.json is parsed strictly and matches the built-in profile', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'inferwatch-plan-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  // The model's config.json (https://huggingface.co/Qwen/Qwen3-4B-Instruct-2507/blob/main/config.json),
  // plus keys we ignore
  const config = {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    hidden_size: 2560,
    intermediate_size: 9728,
    num_hidden_layers: 36,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    head_dim: 128,
    vocab_size: 151936,
    max_position_embeddings: 262144,
    rope_theta: 5000000,
    rope_scaling: null,
    tie_word_embeddings: true,
    torch_dtype: 'bfloat16',
    sliding_window: null,
  }
  const path = join(dir, 'config.json')
  await writeFile(path, JSON.stringify(config))
  const m = resolveModel(path)
  const builtIn = findModelProfile('qwen3-4b-instruct-2507')
  assert.equal(m.params, builtIn?.params)
  assert.equal(planCapacity({ model: m }).kvBytesPerToken, 147_456)
  // Qwen3's documented YaRN setup: vLLM derives 32768 x 4 = 131072 and accepts that max_model_len.
  const yarn = { type: 'yarn', factor: 4.0, original_max_position_embeddings: 32768 }
  await writeFile(
    path,
    JSON.stringify({ ...config, max_position_embeddings: 40960, rope_scaling: yarn }),
  )
  const long = planCapacity({ model: resolveModel(path), gpu: 'h200', maxModelLen: 131_072 })
  assert.equal(long.model.maxContextTokens, 131_072)
  assert.equal(long.suggestedMaxModelLen, 131_072)
  assert.ok(!long.notes.some((n) => /above the model's max context/.test(n)))
  await writeFile(path, JSON.stringify({ ...config, num_hidden_layers: '36' }))
  assert.throws(
    () => resolveModel(path),
    (e) => isAppError(e, 'PLAN_UNKNOWN_MODEL') && /num_hidden_layers/.test(e.message),
  )
  await writeFile(path, '{ nope')
  assert.throws(
    () => resolveModel(path),
    (e) => isAppError(e, 'PLAN_UNKNOWN_MODEL') && /not JSON/.test(e.message),
  )
  assert.throws(
    () => resolveModel('llama-9000'),
    (e) => isAppError(e, 'PLAN_UNKNOWN_MODEL') && /qwen3-8b/.test(e.hint ?? ''),
  )
  assert.throws(
    () => planCapacity({ gpu: 'v100' }),
    (e) => isAppError(e, 'PLAN_UNKNOWN_GPU') && /h200/.test(e.hint ?? ''),
  )
  assert.throws(
    () => planCapacity({ gpuMemoryUtilization: 1.5 }),
    (e) => isAppError(e, 'USAGE'),
  )
})

test('GPU profiles are found by the names nvidia-smi prints; measured memory overrides', () => {
  const names: [string, string][] = [
    ['NVIDIA H100 80GB HBM3', 'h100-80gb'],
    ['NVIDIA H200', 'h200'],
    ['NVIDIA GeForce RTX 4090 D', 'rtx-4090d'],
    ['NVIDIA GeForce RTX 4090', 'rtx-4090'],
    ['NVIDIA A100-SXM4-80GB', 'a100-80gb'],
    ['NVIDIA A100-PCIE-40GB', 'a100-40gb'],
    ['NVIDIA L40S', 'l40s'],
    ['RTX 4090 D', 'rtx-4090d'],
  ]
  for (const [name, id] of names) assert.equal(findGpuProfile(name)?.id, id, name)
  assert.equal(findGpuProfile('NVIDIA GeForce RTX 2080 SUPER'), undefined)
  const measured = planCapacity({ gpu: 'h200', gpuMemoryBytes: 100 * GIB })
  assert.equal(measured.gpu.memoryBytes, 100 * GIB)
  assert.ok(measured.kvTokenBudget < planCapacity({ gpu: 'h200' }).kvTokenBudget)
})
