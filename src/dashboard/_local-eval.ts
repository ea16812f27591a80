import { CONTEXT_CLASS_QUERY } from './_queries.js'
import type { BucketCounts, Snapshot } from './_sampler.js'

// The dashboard's queries answered from the in-memory snapshots, with Prometheus's own
// arithmetic: rate = increase / seconds between samples, histogram_quantile interpolating
// linearly inside the bucket (https://prometheus.io/docs/prometheus/latest/querying/functions/).
// Engine-side series (KV cache, running, waiting, queue time) exist only in Prometheus: no data.

export interface Point {
  labels: Record<string, string>
  value: number
}

type Evaluator = (snaps: readonly Snapshot[], at: number) => Point[]

/** Index of the last snapshot at or before `t`, or -1. */
function indexAt(snaps: readonly Snapshot[], t: number): number {
  let lo = 0
  let hi = snaps.length - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if ((snaps[mid]?.t ?? 0) <= t) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found
}

/** The snapshots bounding the window (at - w, at]: the one at `at` and the one before the window. */
function windowOf(
  snaps: readonly Snapshot[],
  at: number,
  w: number,
): [Snapshot, Snapshot] | undefined {
  const end = indexAt(snaps, at)
  const cur = snaps[end]
  // Stale: nothing sampled near `at` (before the first sample, or a gap).
  if (!cur || at - cur.t > Math.max(15, w / 4)) return undefined
  const start = Math.max(0, indexAt(snaps, at - w))
  const prev = snaps[start]
  if (!prev || prev.t >= cur.t) return undefined
  return [prev, cur]
}

function rateOf(key: string, w: number) {
  return (snaps: readonly Snapshot[], at: number): number | undefined => {
    const win = windowOf(snaps, at, w)
    if (!win) return undefined
    const [prev, cur] = win
    const d = (cur.counters.get(key) ?? 0) - (prev.counters.get(key) ?? 0)
    return Math.max(0, d) / (cur.t - prev.t)
  }
}

const one = (v: number | undefined): Point[] =>
  v === undefined || !Number.isFinite(v) ? [] : [{ labels: {}, value: v }]

const rate =
  (key: string, w: number): Evaluator =>
  (s, at) =>
    one(rateOf(key, w)(s, at))

const ratioOf =
  (num: string, den: string, w: number): Evaluator =>
  (s, at) => {
    const d = rateOf(den, w)(s, at)
    return d ? one((rateOf(num, w)(s, at) ?? 0) / d) : []
  }

/** histogram_quantile over cumulative bucket counts (the +Inf bucket last). */
export function histogramQuantile(q: number, b: BucketCounts): number | undefined {
  const total = b.counts[b.counts.length - 1] ?? 0
  if (total <= 0 || b.les[b.les.length - 1] !== Number.POSITIVE_INFINITY) return undefined
  const rank = q * total
  let i = b.counts.findIndex((c) => c >= rank)
  if (i < 0) i = b.counts.length - 1
  const le = b.les[i] ?? 0
  if (le === Number.POSITIVE_INFINITY) return b.les[i - 1]
  const lower = i === 0 ? Math.min(le, 0) : (b.les[i - 1] ?? 0)
  const below = i === 0 ? 0 : (b.counts[i - 1] ?? 0)
  const inBucket = (b.counts[i] ?? 0) - below
  return inBucket > 0 ? lower + ((le - lower) * (rank - below)) / inBucket : le
}

const quantile =
  (name: 'dur' | 'ttft' | 'tpot', q: number): Evaluator =>
  (snaps, at) => {
    const win = windowOf(snaps, at, 300)
    if (!win) return []
    const [prev, cur] = win
    const now = cur.hist.get(name)
    if (!now) return []
    const before = prev.hist.get(name)
    const counts = now.counts.map((c, i) => {
      const j = before ? before.les.indexOf(now.les[i] ?? 0) : -1
      return c - (j >= 0 ? (before?.counts[j] ?? 0) : 0)
    })
    return one(histogramQuantile(q, { les: now.les, counts }))
  }

const contextClasses: Evaluator = (snaps, at) => {
  const cur = snaps[indexAt(snaps, at)]
  if (!cur) return []
  const names = [...cur.counters.keys()].filter((k) => k.startsWith('class:'))
  return names.flatMap((k) => {
    const v = rateOf(k, 60)(snaps, at)
    return v === undefined ? [] : [{ labels: { context_class: k.slice(6) }, value: v }]
  })
}

const gpuMemory: Evaluator = (snaps, at) => {
  const win = windowOf(snaps, at, 60)
  return win ? win[1].gpus.map((g) => ({ labels: { ...g.labels }, value: g.value })) : []
}

const EVALUATORS: Record<string, Evaluator> = {
  'llm:requests:rate1m': rate('req', 60),
  'llm:request_errors:ratio_rate5m': ratioOf('err', 'req', 300),
  'llm:request_duration_seconds:p50_5m': quantile('dur', 0.5),
  'llm:request_duration_seconds:p95_5m': quantile('dur', 0.95),
  'llm:request_duration_seconds:p99_5m': quantile('dur', 0.99),
  'llm:time_to_first_token_seconds:p50_5m': quantile('ttft', 0.5),
  'llm:time_to_first_token_seconds:p95_5m': quantile('ttft', 0.95),
  'llm:time_per_output_token_seconds:p95_5m': quantile('tpot', 0.95),
  'llm:long_context_requests:ratio_rate5m': ratioOf('long', 'req', 300),
  'llm:input_tokens:rate1m': rate('tok:input', 60),
  'llm:output_tokens:rate1m': rate('tok:output', 60),
  'llm:gpu_memory_usage:ratio': gpuMemory,
  [CONTEXT_CLASS_QUERY]: contextClasses,
}

/** Whether the in-memory history can answer `expr` (engine-side series cannot). */
export const answersLocally = (expr: string): boolean => expr in EVALUATORS

export function evaluateInstant(expr: string, snaps: readonly Snapshot[], at: number): Point[] {
  return EVALUATORS[expr]?.(snaps, at) ?? []
}

/** Series over [start, end] every `step` seconds, as Prometheus's query_range returns them. */
export function evaluateRange(
  expr: string,
  snaps: readonly Snapshot[],
  start: number,
  end: number,
  step: number,
): { labels: Record<string, string>; values: [number, number][] }[] {
  const evaluator = EVALUATORS[expr]
  if (!evaluator) return []
  const series = new Map<string, { labels: Record<string, string>; values: [number, number][] }>()
  for (let t = start; t <= end + 1e-9; t += step) {
    for (const p of evaluator(snaps, t)) {
      const key = JSON.stringify(p.labels)
      let s = series.get(key)
      if (!s) {
        s = { labels: p.labels, values: [] }
        series.set(key, s)
      }
      s.values.push([t, p.value])
    }
  }
  return [...series.values()]
}
