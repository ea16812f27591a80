// The scripted engine's public types (see scripted-engine.ts).
import type { IncomingHttpHeaders } from 'node:http'
import type { ScriptedGauges } from './_metrics.js'

/** Switchable failure behaviours. */
export type ScriptedFailure =
  | { kind: 'none' }
  /** Answer LLM routes with this status and a JSON error body (the engine's own shape by default). */
  | { kind: 'status'; status: number; body?: unknown }
  /** Destroy the socket after this many content tokens (0: before any; non-streamed: before the body). */
  | { kind: 'reset'; afterTokens: number }
  /** Destroy every new connection at accept (a reset; for ECONNREFUSED use a closed port). */
  | { kind: 'refuse' }

export interface ScriptedEngineOptions {
  firstTokenMs: number
  interTokenMs: number
  /** Output tokens per request; undefined: the request's max_tokens (etc.), else 8. */
  outputTokens: number | undefined
  /** Prompt tokens to report; undefined: count with the Qwen3 tokenizer (in a worker, loaded at
   * the first request that needs it: the first such answer's usage may wait ~1-3 s for it). */
  promptTokens: number | undefined
  servedModels: string[]
  maxModelLen: number
  /** Extra delay before response headers on LLM routes (for upstream-timeout tests). */
  headerDelayMs: number
  failure: ScriptedFailure
  /** Status of GET /health. */
  healthStatus: number
  /** Which engine's info endpoints to serve besides /v1/models: vLLM /version, TGI /info, SGLang
   * /get_model_info, llama.cpp /props. */
  flavor: 'vllm' | 'tgi' | 'sglang' | 'llamacpp'
  version: string
  /** vLLM-like /metrics gauges; `running` defaults to the live number of LLM requests. */
  gauges: Partial<ScriptedGauges>
}

export interface RecordedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  /** The request body bytes (set when the request ended or its connection closed). */
  body: Buffer
  /** performance.now() at arrival. */
  receivedAtMs: number
  /** performance.now() when each content token was written (non-streamed: the body, once). */
  tokenAtMs: number[]
  /** performance.now() when the response ended (undefined: not ended normally). */
  endAtMs: number | undefined
  /** True when the client's connection closed before the response was complete. */
  clientClosedEarly: boolean
  /** Resolves when the response finished or the connection closed. */
  done: Promise<void>
}

export interface ScriptedEngine {
  url: string
  requests: RecordedRequest[]
  set(options: Partial<ScriptedEngineOptions>): void
  /** Number of LLM requests being answered now. */
  inFlight(): number
  /** Starts the tokenizer worker and loads the tokenizer now (1-3 s), so that the first counted
   * usage does not wait for it (demo start-up; tests without a `promptTokens` override). */
  warmTokenizer(): Promise<void>
  close(): Promise<void>
}
