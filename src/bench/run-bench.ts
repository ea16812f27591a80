// A whole bench run: prompts built up front, the load loop, the monitoring scrapes around it
// (before after warm-up, after once the last request ended) and its gauges sampled during it.
import { performance } from 'node:perf_hooks'
import type { Qwen3Tokenizer } from '../tokens/index.js'
import { loadCorpusAnalysis } from './_corpus-analysis.js'
import { type CorpusAnalysis, createPromptBuilder, type PromptBuilder } from './_prompts.js'
import { perRequest, type RunSummary, summarize } from './_results.js'
import { type Progress, type RunOutcome, runLoad, type StopReason } from './_runner.js'
import {
  type Buckets,
  bucketQuantile,
  deltaReading,
  type Gauges,
  type Reading,
  readCounters,
  readGauges,
  type SourceKind,
  scrape,
} from './_scrape.js'
import { describe } from './_stats.js'
import type { LoadSpec, PromptSpec, RequestRecord, Slo, TargetSpec } from './types.js'

export interface BenchOptions {
  target: TargetSpec
  load: LoadSpec
  prompts: PromptSpec
  slo?: Slo
  /** --metrics URLs: scraped before/after and sampled during the run. */
  metricsUrls: string[]
  sampleEveryMs: number
  /** The prompt corpus analysed already (loadCorpusAnalysis), reused across runs. */
  corpus?: CorpusAnalysis
  /** Given (tests): the corpus is analysed with it on this thread, else in a worker. */
  tokenizer?: Qwen3Tokenizer
  signal?: AbortSignal
  onProgress?: (p: Progress) => void
  /** Sweep step label (set by the sweep driver). */
  label?: string
}

export interface GaugeSample extends Gauges {
  /** ms since the run's time zero. */
  tMs: number
  source: string
}

export interface SourceCheck {
  url: string
  kind: SourceKind
  delta: Reading
  prefixHitRate?: number
  ttft?: LatencyView
  e2e?: LatencyView
}

export interface LatencyView {
  meanMs: number
  p50Ms: number
  p99Ms: number
}

export interface CrossCheck {
  client: {
    requests: number
    errors: number
    inputTokens: number
    outputTokens: number
    ttft: LatencyView
    e2e: LatencyView
  }
  sources: SourceCheck[]
}

export interface BenchRun {
  label?: string
  target: TargetSpec
  load: LoadSpec
  prompts: PromptSpec
  slo?: Slo
  startedAtMs: number
  /** performance.now() at the run's time zero (record times are relative to it). */
  clockZeroMs: number
  stopReason: StopReason
  warmupErrors: number
  templateTokens: number
  /** Latencies count from the scheduled time (an open loop). */
  fromScheduled: boolean
  records: RequestRecord[]
  summary: RunSummary
  samples: GaugeSample[]
  crossCheck?: CrossCheck
}

export async function preparePrompts(
  options: Pick<BenchOptions, 'target' | 'prompts' | 'load' | 'tokenizer' | 'corpus'>,
): Promise<PromptBuilder> {
  return createPromptBuilder({
    corpus: options.corpus ?? (await loadCorpusAnalysis(options.tokenizer)),
    ...(options.tokenizer ? { tokenizer: options.tokenizer } : {}),
    chat: options.target.endpoint === 'chat',
    tokenIds: options.target.tokenIds,
    sharedPrefixTokens: options.prompts.sharedPrefixTokens,
    seed: options.load.seed,
  })
}

export async function runBench(options: BenchOptions, builder?: PromptBuilder): Promise<BenchRun> {
  const prompts = builder ?? (await preparePrompts(options))
  const before = new Map<string, Reading>()
  const kinds = new Map<string, SourceKind>()
  const samples: GaugeSample[] = []
  let sampler: NodeJS.Timeout | undefined
  let zero = 0
  const sampleAll = async () => {
    await Promise.all(
      options.metricsUrls.map(async (url) => {
        try {
          const s = await scrape(url, Math.max(500, options.sampleEveryMs))
          samples.push({
            tMs: performance.now() - zero,
            source: url,
            ...readGauges(s.exposition, s.kind),
          })
        } catch {
          // A missed sample is a gap in the chart, not a failed run.
        }
      }),
    )
  }
  let outcome: RunOutcome
  try {
    outcome = await runLoad({
      target: options.target,
      load: options.load,
      prompts: options.prompts,
      builder: prompts,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      onMeasureStart: async () => {
        for (const url of options.metricsUrls) {
          const s = await scrape(url)
          kinds.set(url, s.kind)
          before.set(url, readCounters(s.exposition, s.kind))
          samples.push({ tMs: 0, source: url, ...readGauges(s.exposition, s.kind) })
        }
        zero = performance.now()
        if (options.metricsUrls.length > 0) {
          sampler = setInterval(() => void sampleAll(), options.sampleEveryMs)
          sampler.unref()
        }
      },
    })
  } finally {
    if (sampler) clearInterval(sampler)
  }
  // Sample times were taken against `zero`, a hair after the run's own time zero.
  const shift = zero > 0 ? zero - outcome.t0 : 0
  for (const s of samples) s.tMs += shift
  const fromScheduled = options.load.arrivals.kind !== 'closed'
  const summary = summarize(outcome.records, {
    fromScheduled,
    ...(options.slo ? { slo: options.slo } : {}),
  })
  const run: BenchRun = {
    ...(options.label ? { label: options.label } : {}),
    target: options.target,
    load: options.load,
    prompts: options.prompts,
    ...(options.slo ? { slo: options.slo } : {}),
    startedAtMs: outcome.startedAtMs,
    clockZeroMs: outcome.t0,
    stopReason: outcome.stopReason,
    warmupErrors: outcome.warmupErrors,
    templateTokens: prompts.templateTokens,
    fromScheduled,
    records: outcome.records,
    summary,
    samples,
  }
  if (options.metricsUrls.length > 0 && before.size > 0) {
    const sources: SourceCheck[] = []
    for (const url of options.metricsUrls) {
      const kind = kinds.get(url) ?? 'unknown'
      let after: Reading
      try {
        after = readCounters((await scrape(url)).exposition, kind)
      } catch {
        continue
      }
      sources.push(sourceCheck(url, kind, deltaReading(before.get(url) ?? {}, after)))
    }
    run.crossCheck = { client: clientSide(outcome.records), sources }
  }
  return run
}

function view(b: Buckets | undefined): LatencyView | undefined {
  if (!b || b.count <= 0) return undefined
  const q = (x: number) => bucketQuantile(b, x) * 1000
  return { meanMs: (b.sum / b.count) * 1000, p50Ms: q(0.5), p99Ms: q(0.99) }
}

function sourceCheck(url: string, kind: SourceKind, delta: Reading): SourceCheck {
  const c: SourceCheck = { url, kind, delta }
  if (delta.prefixHits !== undefined && delta.prefixQueries && delta.prefixQueries > 0)
    c.prefixHitRate = delta.prefixHits / delta.prefixQueries
  const ttft = view(delta.ttft)
  if (ttft) c.ttft = ttft
  const e2e = view(delta.e2e)
  if (e2e) c.e2e = e2e
  return c
}

/** What the client saw, measured from the send (what a server can see), for the side-by-side. */
function clientSide(records: readonly RequestRecord[]): CrossCheck['client'] {
  const ttft: number[] = []
  const e2e: number[] = []
  let requests = 0
  let errors = 0
  let inputTokens = 0
  let outputTokens = 0
  for (const r of records) {
    if (r.error === 'aborted') continue
    const p = perRequest(r, false)
    if (!p.ok) {
      errors++
      continue
    }
    requests++
    inputTokens += r.serverInputTokens ?? r.inputTokens
    outputTokens += r.outputTokens
    ttft.push(p.ttftMs as number)
    e2e.push(p.e2eMs as number)
  }
  const v = (xs: number[]): LatencyView => {
    const d = describe(xs)
    return { meanMs: d.mean, p50Ms: d.p50, p99Ms: d.p99 }
  }
  return { requests, errors, inputTokens, outputTokens, ttft: v(ttft), e2e: v(e2e) }
}
