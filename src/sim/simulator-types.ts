// The engine simulator's public surface (`inferwatch sim`, `inferwatch up --demo`). The stack and
// the demo driver code against these types only; src/sim implements them.

export type SimEngine = 'vllm' | 'sglang' | 'tgi' | 'llamacpp'

export interface SimulatorOptions {
  engine: SimEngine
  /** vLLM release whose metric names are exported (e.g. `0.8`, `0.10`, `0.12`); default: latest. */
  engineVersion?: string
  /** Model profile id or Hugging Face name, as `inferwatch plan --model` takes (default Qwen3-4B-Instruct-2507). */
  model: string
  /** Served model name (`--served-model-name`); default: the model id. */
  servedModelName?: string
  /** GPU profile id, as `inferwatch plan --gpu` takes (default rtx-4090d). */
  gpu: string
  gpuMemoryUtilization: number
  /** Default: the model's context, capped to what the KV cache holds, as vLLM would refuse to start otherwise. */
  maxModelLen?: number
  /** vLLM --max-num-seqs (default 256). */
  maxNumSeqs?: number
  /** Time runs this many times faster (1 = real time). */
  speed: number
  host: string
  /** 0: a free port. */
  port: number
}

/** What `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` (and --query-compute-apps) would print. */
export interface SimulatedGpu {
  /** Runs "nvidia-smi" with these args against the simulated card: stdout, or throws like a failed run. */
  nvidiaSmi(args: readonly string[]): string
}

export interface SimulatorFaults {
  /** Another process on the card takes this much GPU memory (0 releases it). */
  setForeignGpuMemoryBytes(bytes: number): void
  /** The engine process dies now (connections refused, /health and /metrics gone) and comes back
   * after `downMs` of simulated time, re-allocating its memory; counters restart from zero. */
  crash(downMs: number): void
}

export interface SimulatorState {
  running: number
  waiting: number
  /** 0..1 */
  kvCacheUsage: number
  preemptionsTotal: number
  up: boolean
}

export interface Simulator {
  url: string
  engine: SimEngine
  /** Served model name. */
  model: string
  maxModelLen: number
  kvTokenBudget: number
  gpu: SimulatedGpu
  faults: SimulatorFaults
  state(): SimulatorState
  close(): Promise<void>
}

/** What startSimulator takes beyond SimulatorOptions (all optional). */
export interface EngineSimulatorOptions extends SimulatorOptions {
  /** Simulated ms the engine spends loading after a crash (/health 503); default: weights at
   * 2 GB/s plus 5 s of start-up. */
  loadingMs?: number
  /** Tokens per engine step (vLLM --max-num-batched-tokens, SGLang --chunked-prefill-size, TGI
   * --max-batch-prefill-tokens, llama.cpp --batch-size); default per engine. */
  maxNumBatchedTokens?: number
}

export type SimulatorPhase = 'ready' | 'down' | 'loading'

export interface EngineSimulatorState extends SimulatorState {
  phase: SimulatorPhase
}

/** The simulator startSimulator returns: Simulator plus what tests and `inferwatch sim` read. */
export interface EngineSimulator extends Simulator {
  engineVersion: string
  /** What nvidia-smi calls the card. */
  gpuName: string
  /** Hugging Face id of the simulated weights. */
  modelPath: string
  maxNumSeqs: number
  maxNumBatchedTokens: number
  /** Bytes the engine process holds on the card once loaded. */
  engineMemoryBytes: number
  speed: number
  /** The capacity model the steps run on, in simulated seconds. */
  timing: {
    /** An idle engine's prefill of `tokens` prompt tokens (time to first token). */
    prefillSeconds(tokens: number): number
    /** One decode step of `batch` sequences holding `contextTokens` tokens of KV in all. */
    decodeStepSeconds(batch: number, contextTokens: number): number
  }
  gpu: SimulatedGpu & {
    /** Memory as the next nvidia-smi read shows it. */
    memory(): { totalBytes: number; usedBytes: number }
  }
  state(): EngineSimulatorState
  /** Token usage the simulator's answers reported, since start (across restarts). */
  usage(): { requests: number; promptTokens: number; completionTokens: number }
  /** Loads the tokenizer worker now, so the first counted prompt does not wait for it. */
  warmTokenizer(): Promise<void>
}
