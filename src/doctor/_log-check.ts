import type { DoctorCheck } from './types.js'

// Why an engine failed to start, from its log: monitoring cannot fix a service that failed to
// start (CUDA OOM, model load failure; README: `inferwatch doctor`). Messages as vLLM, PyTorch,
// llama.cpp, TGI and SGLang print them; the first signature found (scanning from the end) wins.

interface Signature {
  name: string
  pattern: RegExp
  fix: string
}

const SIGNATURES: Signature[] = [
  {
    name: 'max_model_len larger than the KV cache',
    // vLLM: "The model's max seq len (262144) is larger than the maximum number of tokens that can
    // be stored in KV cache (93424)."
    pattern: /larger than the maximum number of tokens that can be stored in KV cache/i,
    fix: 'lower --max-model-len to what fits (the number in the message; `inferwatch plan` shows it), use --kv-cache-dtype fp8, or raise --gpu-memory-utilization',
  },
  {
    name: 'no memory left for the KV cache',
    pattern: /No available memory for the cache blocks/i,
    fix: 'the weights fill the --gpu-memory-utilization budget: raise it, free the GPU (nvidia-smi shows other processes), or use a smaller or quantized model',
  },
  {
    name: 'GPU out of memory',
    pattern:
      /CUDA out of memory|OutOfMemoryError|cudaErrorMemoryAllocation|cudaMalloc failed: out of memory|out of memory on device/i,
    fix: 'free the GPU (`nvidia-smi --query-compute-apps=pid,used_memory,process_name --format=csv` shows who holds it), lower --max-model-len / --max-num-seqs or --gpu-memory-utilization, or use a smaller or quantized model',
  },
  {
    name: 'model failed to load',
    pattern:
      /failed to load model|error loading model|Failed to load model|RepositoryNotFoundError|GatedRepoError|HFValidationError|does not appear to have a file named|is not a local folder and is not a valid model identifier/,
    fix: 'check the model name or path, the Hugging Face token for gated models (HF_TOKEN), free disk space, and that the engine version supports this architecture',
  },
  {
    name: 'port already in use',
    pattern: /address already in use|EADDRINUSE|Errno 98/i,
    fix: 'another process holds the port: stop it (`ss -ltnp` names it) or start the engine on another --port',
  },
  {
    name: 'multi-GPU communication failed',
    pattern: /NCCL error|ncclUnhandledCudaError|ncclSystemError/,
    fix: 'check that every GPU is visible (CUDA_VISIBLE_DEVICES), --tensor-parallel-size matches, and shared memory is large enough (docker --shm-size / --ipc=host)',
  },
  {
    name: 'engine core died',
    pattern:
      /EngineDeadError|Engine core initialization failed|EngineCore failed to start|Engine process failed to start/i,
    fix: 'the lines just above this one in the log say why; fix that and restart',
  },
]

/** Scans at most the last `maxBytes` of a log; undefined when no known start failure shows. */
export function findStartFailure(
  text: string,
  maxBytes = 512 * 1024,
): { name: string; line: string; fix: string } | undefined {
  const lines = text.slice(-maxBytes).split('\n')
  for (const sig of SIGNATURES) {
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i] ?? ''
      if (sig.pattern.test(line))
        return { name: sig.name, line: line.trim().slice(0, 240), fix: sig.fix }
    }
  }
  return undefined
}

export function checkEngineLog(
  log: { name: string; text: string } | undefined,
  engineHealthy: boolean,
): DoctorCheck {
  const id = 'engine.log'
  const title = 'engine log has no start failure'
  if (!log)
    return {
      id,
      title,
      status: 'skip',
      finding:
        'no --engine-log given (a file, or - for stdin: `docker logs vllm 2>&1 | inferwatch doctor --engine-log -`)',
    }
  const found = findStartFailure(log.text)
  if (!found) return { id, title, status: 'pass', finding: `${log.name}: no known start failure` }
  return {
    id,
    title,
    // A healthy engine with an old failure in its log: worth a look, not a failure now.
    status: engineHealthy ? 'warn' : 'fail',
    finding: `${log.name}: ${found.name}: ${found.line}`,
    fix: found.fix,
  }
}
