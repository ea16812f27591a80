// What every simulated engine's /metrics is built from: the core's events, the HTTP layer's
// answers and a snapshot of the scheduler at scrape time. Each dialect (_metrics-<engine>.ts)
// keeps its own counters and histograms in its own names and units (simulated seconds).
import type { CoreObserver, CoreRequest, CoreSnapshot } from './_core.js'

export interface MetricsContext {
  /** The served model name (model_name label). */
  model: string
  maxModelLen: number
  kvBlocks: number
  blockSize: number
  kvTokenBudget: number
  gpuMemoryUtilization: number
  maxNumSeqs: number
  /** Unix seconds when this engine process started (counters' *_created, process start). */
  startedUnixS: number
  /** Simulated seconds. */
  nowS: () => number
}

export interface HttpEvent {
  method: string
  /** The route as the engine's router names it. */
  handler: string
  status: number
  /** Simulated seconds. */
  durationS: number
  /** Why an LLM request was refused before reaching the engine (TGI's `err` label). */
  failure?: 'validation' | 'overloaded'
}

export interface EngineMetrics {
  observer: CoreObserver
  /** Every HTTP answer, after it ended. */
  http(e: HttpEvent): void
  /** An LLM request reached the router (TGI counts them at arrival). */
  arrived(): void
  /** A prompt admitted on an estimate got its exact count. */
  promptSettled(r: CoreRequest, before: number): void
  render(s: CoreSnapshot): string
}

/** Generated tokens per simulated second since the previous call (throughput gauges). */
export function rateSince(): (total: number, nowS: number) => number {
  let lastTotal = 0
  let lastS: number | undefined
  let last = 0
  return (total, nowS) => {
    if (lastS === undefined) {
      lastS = nowS
      lastTotal = total
      return 0
    }
    const dt = nowS - lastS
    if (dt > 0) {
      last = (total - lastTotal) / dt
      lastS = nowS
      lastTotal = total
    }
    return last
  }
}

/** A no-op for observer slots a dialect does not use. */
export const ignore = (): void => {}
