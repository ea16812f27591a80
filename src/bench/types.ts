// The load generator's public types: what a run is asked to do, what it records per request, and
// what it reports. JSON output keys follow `vllm bench serve` where the meaning matches (README:
// `inferwatch bench`).

/** Request formats: OpenAI chat / completions, TGI `/generate_stream` (or `/generate`), vLLM's
 * demo `/generate` (NDJSON) and llama.cpp's `/completion`. */
export type BenchEndpoint = 'chat' | 'completions' | 'tgi-generate' | 'vllm-generate' | 'llamacpp'

export type LengthDistribution =
  | { kind: 'fixed'; tokens: number }
  /** Uniform whole numbers in [min, max]. */
  | { kind: 'uniform'; min: number; max: number }
  /** Normal(mean, std), rounded, clamped to [min, max]. */
  | { kind: 'normal'; mean: number; std: number; min: number; max: number }

export type Arrivals =
  /** Closed loop: the next request goes out as soon as a slot frees. */
  | { kind: 'closed' }
  /** Open loop at `ratePerSecond`: gaps of exactly 1/rate. */
  | { kind: 'constant'; ratePerSecond: number }
  /** Open loop, gaps ~ Gamma(shape = burstiness, mean 1/rate); burstiness 1 is Poisson. */
  | { kind: 'gamma'; ratePerSecond: number; burstiness: number }

export interface Slo {
  ttftMs?: number
  tpotMs?: number
  e2eMs?: number
}

export interface TargetSpec {
  /** Base URL of the server (no path), e.g. http://127.0.0.1:8000. */
  baseUrl: string
  endpoint: BenchEndpoint
  model: string
  apiKey?: string
  stream: boolean
  /** Ask the engine to ignore EOS so every request generates exactly its output length. */
  ignoreEos: boolean
  /** completions / llamacpp: send the prompt as Qwen3 token ids (exact by construction). */
  tokenIds: boolean
}

export interface LoadSpec {
  arrivals: Arrivals
  /** Most requests in flight (closed loop: the concurrency). Infinity: no cap. */
  maxConcurrency: number
  /** Stop issuing after this many measured requests (undefined: by duration only). */
  requests?: number
  /** Stop issuing after this long (undefined: by request count only). */
  durationMs?: number
  /** Requests sent (closed loop, before measuring) and not recorded. */
  warmupRequests: number
  /** Per request, from send to the last byte. */
  timeoutMs: number
  /** Stop issuing once this share of finished requests failed (after at least 10). */
  maxErrorRate?: number
  seed: number
}

export interface PromptSpec {
  input: LengthDistribution
  output: LengthDistribution
  /** Tokens every prompt starts with (same text for all: the prefix cache can serve it). */
  sharedPrefixTokens: number
}

/** One request as measured. Times are ms on the run's clock (performance.now() − run start). */
export interface RequestRecord {
  index: number
  /** When the load shape wanted it sent. */
  scheduledMs: number
  sentMs: number
  /** Response headers arrived. */
  headersMs?: number
  /** A chat stream's role-only chunk (no content), when one came before the first content. */
  roleChunkMs?: number
  /** One entry per event that carried output content. */
  chunkMs: number[]
  endMs?: number
  status?: number
  /** Undefined on success; else `timeout`, `http_<status>`, `connect`, `reset`, `aborted`, `bad_stream`. */
  error?: string
  errorDetail?: string
  /** Prompt tokens as built (chat: template included). */
  inputTokens: number
  /** What the server reported, when it did. */
  serverInputTokens?: number
  requestedOutputTokens: number
  /** Server usage when reported, else the content events counted. */
  outputTokens: number
  outputTokensFrom: 'usage' | 'events'
}

export interface Distribution {
  count: number
  mean: number
  std: number
  p50: number
  p90: number
  p95: number
  p99: number
  p999: number
  min: number
  max: number
}
