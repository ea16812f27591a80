import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { checkEngineLog, findStartFailure } from './_log-check.js'

// Log lines as the engines print them (vLLM gpu_worker / kv_cache_utils, PyTorch, llama.cpp).
const CASES: [string, string, RegExp][] = [
  [
    'vLLM: max_model_len over the KV cache',
    "ValueError: The model's max seq len (262144) is larger than the maximum number of tokens that can be stored in KV cache (93424). Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.",
    /lower --max-model-len/,
  ],
  [
    'vLLM: no room for the KV cache',
    'ValueError: No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine.',
    /raise it/,
  ],
  [
    'PyTorch CUDA OOM',
    'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.64 GiB of which 1.06 GiB is free.',
    /free the GPU/,
  ],
  [
    'llama.cpp cudaMalloc OOM',
    'ggml_backend_cuda_buffer_type_alloc_buffer: allocating 9216.00 MiB on device 0: cudaMalloc failed: out of memory',
    /free the GPU/,
  ],
  [
    'llama.cpp model load',
    "srv    load_model: failed to load model, '/models/qwen3.gguf'",
    /model name or path/,
  ],
  [
    'Hugging Face repo missing',
    'huggingface_hub.errors.RepositoryNotFoundError: 401 Client Error. Repository Not Found for url: https://huggingface.co/api/models/Qwen/Nope.',
    /HF_TOKEN/,
  ],
  [
    'port taken',
    'ERROR:    [Errno 98] error while attempting to bind on address',
    /another process holds the port/,
  ],
]

describe('findStartFailure', () => {
  for (const [name, line, fix] of CASES) {
    test(name, () => {
      const found = findStartFailure(`INFO 09-01 12:00:00 starting\n${line}\nINFO shutting down\n`)
      assert.ok(found, name)
      assert.equal(found.line, line.slice(0, 240))
      assert.match(found.fix, fix)
    })
  }

  test('an OOM explains a load failure that follows it', () => {
    const found = findStartFailure(
      'cudaMalloc failed: out of memory\nllama_model_load: error loading model: unable to allocate buffer\n',
    )
    assert.equal(found?.name, 'GPU out of memory')
  })

  test('a clean log has none', () => {
    assert.equal(
      findStartFailure(
        'INFO: Application startup complete.\nINFO: Uvicorn running on http://0.0.0.0:8000\n',
      ),
      undefined,
    )
  })

  test('only the tail is scanned', () => {
    const text = `CUDA out of memory\n${'x'.repeat(100)}\n`
    assert.equal(findStartFailure(text, 50), undefined)
    assert.equal(findStartFailure(text)?.name, 'GPU out of memory')
  })
})

describe('checkEngineLog', () => {
  test('fail when the engine is down, warn when it is up anyway, skip without a log', () => {
    const log = { name: 'vllm.log', text: 'torch.OutOfMemoryError: CUDA out of memory.\n' }
    const down = checkEngineLog(log, false)
    assert.equal(down.status, 'fail')
    assert.equal(
      down.finding,
      'vllm.log: GPU out of memory: torch.OutOfMemoryError: CUDA out of memory.',
    )
    assert.equal(checkEngineLog(log, true).status, 'warn')
    assert.equal(checkEngineLog({ name: 'ok.log', text: 'ready\n' }, false).status, 'pass')
    assert.equal(checkEngineLog(undefined, false).status, 'skip')
  })
})
