import type { ProbeFailure, ProbeLimiter } from './probe.js'

/** Values of the `gen_ai_provider_name` label (README: Metrics). */
export type EngineProvider = 'vllm' | 'tgi' | 'sglang' | 'llamacpp' | 'openai'

export type EngineHealthStatus = 'ok' | 'loading' | 'unhealthy' | 'unknown'

export interface EngineHealth {
  status: EngineHealthStatus
  /** HTTP status of GET /health, when it answered. */
  httpStatus?: number
  /** One line: what the health endpoint said. */
  detail: string
}

export interface EngineMetricsInfo {
  served: boolean
  /** Path on the base URL, e.g. `/metrics`, when served. */
  path?: string
  /** Full URL of the endpoint probed. */
  url: string
  /** Engine prefixes seen in the scrape: `vllm:`, `tgi_`, `sglang:`, `llamacpp:`. */
  prefixes: string[]
  /** HTTP status when the endpoint answered (e.g. 501 from llama.cpp without --metrics). */
  httpStatus?: number
  /** Why it is not served, in one line. */
  detail?: string
}

export interface EngineInfo {
  provider: EngineProvider
  /** false when nothing engine-specific answered: `provider` is then a guess ('openai'). */
  identified: boolean
  /** What identified it, e.g. `GET /info (model_id, max_total_tokens)`. */
  evidence: string[]
  baseUrl: string
  version?: string
  /** Served model names, as clients put them in `model`. */
  models: string[]
  /** The weights the engine loaded (vLLM `root`, TGI `model_id`, SGLang/llama.cpp `model_path`). */
  modelPath?: string
  /** Max context in tokens (prompt + output). */
  maxModelLen?: number
  metrics: EngineMetricsInfo
  /** Fraction of GPU memory the engine pre-allocates (vLLM gpu_memory_utilization, SGLang mem_fraction_static). */
  gpuMemoryUtilization?: number
  /** KV-cache capacity in tokens (vLLM num_gpu_blocks × block_size, SGLang max_total_num_tokens). */
  kvCacheTokens?: number
  health: EngineHealth
}

export interface DiscoverOptions {
  fetch?: typeof globalThis.fetch
  /** Sent as `Authorization: Bearer` (vLLM/TGI/llama.cpp `--api-key` protect /v1 routes). */
  apiKey?: string
  /** Per probe, from when it is sent. Default 3000. */
  timeoutMs?: number
  /** Bounds the probes in flight; default: a limiter of its own allowing 2. */
  limiter?: ProbeLimiter
  /** Aborts every probe not yet answered (the caller is closing). */
  signal?: AbortSignal
}

export type { ProbeFailure, ProbeLimiter }
