// The engine core's types (_core.ts): requests as the scheduler tracks them, what it reports.
import type { KvPool, PrefixEntry } from './_kv.js'
import type { PerfModel, StepTiming } from './_perf.js'

export type FinishReason = 'stop' | 'length' | 'abort'

export interface SimClock {
  /** Simulated seconds since the simulator started. */
  nowS(): number
  /** Wall-clock milliseconds until simulated second `s` (negative: already past). */
  msUntil(s: number): number
}

export interface RequestSpec {
  promptTokens: number
  /** Output tokens to generate. */
  targetTokens: number
  finishReason: 'stop' | 'length'
  /** Identical prompts share cached prefix blocks. */
  prefixKey: string | undefined
  /** `reserve` policy: KV tokens taken at admission (default prompt + target). */
  reserveTokens?: number
  sink: CoreSink
}

export interface CoreSink {
  /** New tokens since the last call (`r.pendingTokens`), and/or the request finished. */
  flush(r: CoreRequest): void
}

export interface CoreRequest extends RequestSpec {
  id: number
  state: 'waiting' | 'running' | 'finished'
  arrivalS: number
  /** Tokens of this sequence in the KV cache while prefilling (prompt, then prompt + output after
   * a preemption). */
  computed: number
  prefillTarget: number
  generated: number
  blocks: number
  prefix: PrefixEntry | undefined
  cachedTokens: number
  preemptions: number
  scheduledS: number | undefined
  firstTokenS: number | undefined
  lastTokenS: number | undefined
  finishS: number | undefined
  finished: FinishReason | undefined
  pendingTokens: number
}

export interface CoreObserver {
  step(
    startS: number,
    endS: number,
    tokens: number,
    timing: StepTiming,
    seqs: number,
    prefillTokens: number,
  ): void
  admitted(r: CoreRequest, queriedTokens: number, hitTokens: number): void
  firstToken(r: CoreRequest): void
  token(r: CoreRequest, gapS: number): void
  preempted(r: CoreRequest): void
  finished(r: CoreRequest): void
}

export interface CoreSnapshot {
  running: number
  waiting: number
  kvUsage: number
  usedBlocks: number
  /** Tokens the running sequences hold in KV. */
  kvTokens: number
  /** `reserve` policy: tokens reserved by the running requests. */
  reservedTokens: number
  preemptions: number
  busy: boolean
}

export interface EngineCore {
  submit(spec: RequestSpec): CoreRequest
  /** The exact prompt count arrived (the request was admitted on an estimate). */
  settlePrompt(r: CoreRequest, tokens: number): void
  /** The client went away: the request stops now and frees its KV. */
  abort(r: CoreRequest): void
  snapshot(): CoreSnapshot
  /** Stops the timer and drops every request without flushing (the process died). */
  kill(): void
}

export interface CoreOptions {
  perf: PerfModel
  pool: KvPool
  maxNumSeqs: number
  maxBatchedTokens: number
  policy: 'ondemand' | 'reserve'
  clock: SimClock
  observer: CoreObserver
}
