// A sweep, after GuideLLM's: one request at a time (the unloaded rate), then all-out at the
// concurrency cap (the saturated rate), then open-loop rates evenly between the two, stopping
// early at the first rate the server cannot keep up with (fewer than 90 % of the requests per
// second asked for, or the client queue growing past a second).
import type { PromptBuilder } from './_prompts.js'
import { type BenchOptions, type BenchRun, preparePrompts, runBench } from './run-bench.js'

export interface SweepResult {
  runs: BenchRun[]
  /** Label of the step found saturated, when one was. */
  saturatedAt?: string
}

export async function runSweep(
  options: BenchOptions,
  rates: number,
  onStep?: (run: BenchRun) => void,
): Promise<SweepResult> {
  const builder: PromptBuilder = await preparePrompts(options)
  const cap = Number.isFinite(options.load.maxConcurrency) ? options.load.maxConcurrency : 256
  const runs: BenchRun[] = []
  const step = async (label: string, load: BenchOptions['load']) => {
    const run = await runBench({ ...options, label, load }, builder)
    runs.push(run)
    onStep?.(run)
    return run
  }
  const sync = await step('synchronous', {
    ...options.load,
    arrivals: { kind: 'closed' },
    maxConcurrency: 1,
  })
  if (options.signal?.aborted) return { runs }
  const all = await step(`throughput (${cap} in flight)`, {
    ...options.load,
    arrivals: { kind: 'closed' },
    maxConcurrency: cap,
    warmupRequests: 0,
  })
  const lo = sync.summary.requestThroughput
  const hi = all.summary.requestThroughput
  const burstiness =
    options.load.arrivals.kind === 'gamma' ? options.load.arrivals.burstiness : undefined
  for (let i = 1; i <= rates && !options.signal?.aborted && hi > lo; i++) {
    const rate = Number((lo + ((hi - lo) * i) / (rates + 1)).toPrecision(4))
    const run = await step(`${rate} req/s`, {
      ...options.load,
      warmupRequests: 0,
      maxConcurrency: cap,
      arrivals:
        burstiness === undefined
          ? { kind: 'constant', ratePerSecond: rate }
          : { kind: 'gamma', ratePerSecond: rate, burstiness },
    })
    const s = run.summary
    if (s.requestThroughput < 0.9 * rate || s.clientQueue.p99 > 1000)
      return { runs, saturatedAt: run.label ?? '' }
  }
  return { runs }
}
