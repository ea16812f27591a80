import { DEFAULT_GPU_MEMORY_UTILIZATION } from '../../plan/index.js'
import { AppError } from '../../shared/index.js'
import { DEFAULT_ENGINE_VERSION, resolveSimulatorPlan, startSimulator } from '../../sim/index.js'
import { choiceFlag, hostPortFlag, numberFlag, positiveIntFlag, stringFlag } from '../_flags.js'
import { type Command, waitForAbort } from '../command.js'

const SIM_NUMBER = { integer: false, command: 'sim' }

export const simCommand: Command = {
  name: 'sim',
  summary: 'engine simulator: a vLLM stand-in whose KV cache, batching and speed follow `plan`',
  usage:
    'inferwatch sim [--listen H:P] [--engine vllm] [--engine-version V] [--model M] [--gpu G] [--gpu-memory-utilization F] [--max-model-len N] [--max-num-seqs N] [--speed X]',
  options: {
    listen: {
      type: 'string',
      valueName: 'H:P',
      description: 'where the simulated engine listens (default 127.0.0.1:8000)',
    },
    engine: {
      type: 'string',
      valueName: 'E',
      description: 'engine to simulate; only vllm so far (default vllm)',
    },
    'engine-version': {
      type: 'string',
      valueName: 'V',
      description: `vLLM release whose /metrics names to export, e.g. 0.8, 0.10 (default ${DEFAULT_ENGINE_VERSION})`,
    },
    model: {
      type: 'string',
      valueName: 'M',
      description:
        'model profile, as `inferwatch plan --model` takes (default qwen3-4b-instruct-2507)',
    },
    gpu: {
      type: 'string',
      valueName: 'G',
      description: 'GPU profile, as `inferwatch plan --gpu` takes (default rtx-4090d)',
    },
    'gpu-memory-utilization': {
      type: 'string',
      valueName: 'F',
      description: `vLLM's fraction of GPU memory (default ${DEFAULT_GPU_MEMORY_UTILIZATION})`,
    },
    'max-model-len': {
      type: 'string',
      valueName: 'N',
      description: "longest request, tokens (default: the model's context, capped to the KV cache)",
    },
    'max-num-seqs': {
      type: 'string',
      valueName: 'N',
      description: 'most requests batched at once (default 256)',
    },
    speed: {
      type: 'string',
      valueName: 'X',
      description: 'simulated time runs X times faster than the clock (default 1)',
    },
  },
  details: [
    'Serves the vLLM OpenAI API (POST /v1/chat/completions, /v1/completions, streamed or not),',
    'GET /v1/models, /health, /version and /metrics in vLLM names. Continuous batching over the',
    'KV token budget `inferwatch plan` computes: a request waits until its prompt fits, the newest',
    'running request is preempted when the cache runs out; prefill is compute-bound and each decode',
    'step reads the weights and the KV in use at the GPU memory bandwidth. Prompt tokens are',
    'estimated as UTF-8 bytes / 4. No GPU is used. SIGINT/SIGTERM stop it.',
  ].join('\n'),
  examples: [
    'inferwatch sim',
    'inferwatch sim --gpu h200 --model qwen3-8b --speed 10 --listen 127.0.0.1:8001',
    'inferwatch proxy --upstream http://127.0.0.1:8000   # in another terminal',
  ],
  async run(args, io) {
    const engine = choiceFlag(args, 'engine', ['vllm'] as const) ?? 'vllm'
    const listen = hostPortFlag(args, 'listen') ?? { host: '127.0.0.1', port: 8000 }
    const speed = numberFlag(args, 'speed', SIM_NUMBER) ?? 1
    if (!(speed > 0))
      throw new AppError('USAGE', `--speed must be above 0, got ${speed}`, {
        hint: 'e.g. --speed 10',
      })
    const engineVersion = stringFlag(args, 'engine-version')
    const maxModelLen = positiveIntFlag(args, 'max-model-len', 'tokens')
    const maxNumSeqs = positiveIntFlag(args, 'max-num-seqs', 'requests')
    const options = {
      engine,
      ...(engineVersion !== undefined ? { engineVersion } : {}),
      model: stringFlag(args, 'model') ?? 'qwen3-4b-instruct-2507',
      gpu: stringFlag(args, 'gpu') ?? 'rtx-4090d',
      gpuMemoryUtilization:
        numberFlag(args, 'gpu-memory-utilization', SIM_NUMBER) ?? DEFAULT_GPU_MEMORY_UTILIZATION,
      ...(maxModelLen !== undefined ? { maxModelLen } : {}),
      ...(maxNumSeqs !== undefined ? { maxNumSeqs } : {}),
      speed,
      host: listen.host,
      port: listen.port,
    }
    const { plan, gpu } = resolveSimulatorPlan(options)
    const sim = await startSimulator(options)
    io.stdout(
      [
        `inferwatch sim: vLLM ${engineVersion ?? DEFAULT_ENGINE_VERSION} serving ${sim.model} (${plan.model.hfId}) on a simulated ${gpu.name}, gpu_memory_utilization ${plan.gpuMemoryUtilization}`,
        `  KV cache ${sim.kvTokenBudget} tokens (${sim.kvTokenBudget / plan.blockSizeTokens} blocks), max_model_len ${sim.maxModelLen}, max_num_seqs ${options.maxNumSeqs ?? 256}, speed ${speed}x`,
        `  listening on ${sim.url} (OpenAI API, /v1/models, /health, /metrics)`,
        '',
      ].join('\n'),
    )
    await waitForAbort(io.signal)
    await sim.close()
    return 0
  },
}
