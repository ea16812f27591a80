import type { HeaderSource } from '../shared/index.js'

// The seam between the proxy (transport) and the meter (what an exchange means).
// The proxy calls these hooks beside forwarding; the meter never touches sockets or bytes
// on the wire, and no hook may throw or block (metering is best-effort, forwarding is not).

export type Provider = 'vllm' | 'tgi' | 'sglang' | 'llamacpp' | 'openai'
export type Operation = 'chat' | 'text_completion' | 'generate' | 'embeddings'
export type ContextClass = 'short' | 'medium' | 'long' | 'unknown'
/** README: Metrics: empty on success; else the HTTP status as a string, or one of these. */
export type ErrorType =
  | ''
  | `${number}`
  | 'upstream_unreachable'
  | 'upstream_timeout'
  | 'upstream_reset'
  | 'client_abort'

export interface ExchangeStart {
  method: string
  /** Path and query exactly as received. */
  url: string
  /** Node's rawHeaders as received (the proxy), or a headers object: src/shared/header-source.ts. */
  headers: HeaderSource
  /** performance.now() when the request arrived at the proxy. */
  startedAtMs: number
}

export interface ExchangeOutcome {
  /** '' on success. */
  errorType: ErrorType
  /** performance.now() when the exchange ended (last byte to the client, or the failure). */
  atMs: number
}

export interface ExchangeObserver {
  requestChunk(chunk: Buffer): void
  requestEnd(): void
  responseHead(status: number, headers: HeaderSource, atMs: number): void
  responseChunk(chunk: Buffer, atMs: number): void
  end(outcome: ExchangeOutcome): void
}

export interface Meter {
  /** On each request's arrival. undefined: not an LLM endpoint, nothing is metered. */
  observe(start: ExchangeStart): ExchangeObserver | undefined
  /** What the engine serves (from src/engines discovery), bounding the model label. */
  setServedModels(models: readonly string[], provider: Provider): void
  close(): Promise<void>
}
