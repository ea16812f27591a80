import { DEFAULT_GPU_MEMORY_UTILIZATION, GPU_PROFILES } from '../../plan/index.js'
import { AppError } from '../../shared/index.js'
import { DEFAULT_ENGINE_VERSIONS, type SimEngine, startSimulator } from '../../sim/index.js'
import { choiceFlag, hostPortFlag, numberFlag, positiveIntFlag, stringFlag } from '../_flags.js'
import { type Command, waitForAbort } from '../command.js'

const SIM_NUMBER = { integer: false, command: 'sim' }
const ENGINES = ['vllm', 'sglang', 'tgi', 'llamacpp'] as const
const ENGINE_NAMES: Record<SimEngine, string> = {
  vllm: 'vLLM',
  sglang: 'SGLang',
  tgi: 'TGI',
  llamacpp: 'llama.cpp',
}
const GIB = 1024 ** 3

export const simCommand: Command = {
  name: 'sim',
  summary: 'engine simulator: an engine stand-in whose API, /metrics and speed follow `plan`',
  usage:
    'inferwatch sim [--listen H:P] [--engine vllm|sglang|tgi|llamacpp] [--engine-version V] [--model M] [--gpu G] [--gpu-memory-utilization F] [--max-model-len N] [--max-num-seqs N] [--speed X]',
  options: {
    listen: {
      type: 'string',
      valueName: 'H:P',
      description: 'where the simulated engine listens (default 127.0.0.1:8000)',
    },
    engine: {
      type: 'string',
      valueName: 'E',
      description: 'engine to simulate: vllm, sglang, tgi or llamacpp (default vllm)',
    },
    'engine-version': {
      type: 'string',
      valueName: 'V',
      description: `release whose API and /metrics names to serve, e.g. vLLM 0.8, 0.10, 0.12; llama.cpp b4748 (defaults: ${ENGINES.map((e) => `${e} ${DEFAULT_ENGINE_VERSIONS[e]}`).join(', ')})`,
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
      description: `GPU profile: ${GPU_PROFILES.map((g) => g.id).join(', ')} (default rtx-4090d)`,
    },
    'gpu-memory-utilization': {
      type: 'string',
      valueName: 'F',
      description: `fraction of GPU memory the engine takes at start (default ${DEFAULT_GPU_MEMORY_UTILIZATION})`,
    },
    'max-model-len': {
      type: 'string',
      valueName: 'N',
      description:
        "longest request, tokens (default: the model's context, capped to the KV cache; llama.cpp: per slot)",
    },
    'max-num-seqs': {
      type: 'string',
      valueName: 'N',
      description: 'most requests batched at once (default 256; llama.cpp: slots, default 4)',
    },
    speed: {
      type: 'string',
      valueName: 'X',
      description: 'simulated time runs X times faster than the clock (default 1)',
    },
  },
  details: [
    "Serves the engine's own API: vLLM's OpenAI server (/v1/chat/completions, /v1/completions,",
    'streamed or not, stream_options.include_usage; /v1/models with max_model_len, /health,',
    "/version, /tokenize), TGI's /generate, /generate_stream and /info, SGLang's /generate,",
    "/get_model_info and /get_server_info, llama.cpp's /completion, /props and /slots, each with",
    'its /metrics dialect (vLLM: the names the --engine-version exported). Prompts are counted with',
    'the Qwen3 tokenizer. The KV cache is what `inferwatch plan` computes for model, card and',
    "fraction; requests are batched continuously, prefilled in chunks at the card's FLOP/s and",
    'decoded at its memory bandwidth; they wait when the cache is full and are preempted when it',
    "runs out; a prompt over max_model_len gets the engine's own error. Durations in /metrics are",
    'simulated seconds. No GPU is used. SIGINT/SIGTERM stop it.',
  ].join('\n'),
  examples: [
    'inferwatch sim',
    'inferwatch sim --engine-version 0.8 --gpu h200 --model qwen3-8b --speed 10',
    'inferwatch sim --engine tgi --listen 127.0.0.1:3000',
    'inferwatch proxy --upstream http://127.0.0.1:8000   # in another terminal',
  ],
  async run(args, io) {
    const engine = choiceFlag(args, 'engine', ENGINES) ?? 'vllm'
    const listen = hostPortFlag(args, 'listen') ?? { host: '127.0.0.1', port: 8000 }
    const speed = numberFlag(args, 'speed', SIM_NUMBER) ?? 1
    if (!(speed > 0))
      throw new AppError('USAGE', `--speed must be above 0, got ${speed}`, {
        hint: 'e.g. --speed 10',
      })
    const engineVersion = stringFlag(args, 'engine-version')
    const maxModelLen = positiveIntFlag(args, 'max-model-len', 'tokens')
    const maxNumSeqs = positiveIntFlag(args, 'max-num-seqs', 'requests')
    const sim = await startSimulator({
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
    })
    const single = sim.timing.decodeStepSeconds(1, 1024)
    io.stdout(
      [
        `inferwatch sim: ${ENGINE_NAMES[engine]} ${sim.engineVersion} serving ${sim.model} (${sim.modelPath}) on a simulated ${sim.gpuName}`,
        `  KV cache ${sim.kvTokenBudget} tokens, max_model_len ${sim.maxModelLen}, max_num_seqs ${sim.maxNumSeqs}, ${sim.maxNumBatchedTokens} tokens a step`,
        `  engine memory ${(sim.engineMemoryBytes / GIB).toFixed(2)} GiB of the card; a 1024-token prefill ${(sim.timing.prefillSeconds(1024) * 1000).toFixed(0)} ms, one decode step ${(single * 1000).toFixed(1)} ms (simulated)`,
        `  speed ${speed}x; listening on ${sim.url} (API, /health, /metrics)`,
        '',
      ].join('\n'),
    )
    await waitForAbort(io.signal)
    await sim.close()
    return 0
  },
}
