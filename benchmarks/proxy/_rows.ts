// The rows of the proxy benchmark's table, from what proxy-bench.ts measured. Targets are the
// ratios of docs/benchmarks.md: against the bare Node pipe (the runtime's floor) and Portkey (the
// TypeScript peer), both measured in the same run.
import {
  fmtAdded,
  fmtMs,
  fmtRatio,
  type Row,
  ratiosOf,
  TARGETS,
  type TargetName,
  verdict,
} from './_report.js'
import { percentile } from './_stats.js'
import type { WrkResult } from './_wrk.js'

export interface Measured {
  /** The targets that ran (Portkey only when installed). */
  names: readonly TargetName[]
  manyStreams: number
  latencyMs: Map<string, number[]>
  streaming: Map<string, { ttftMs: number[]; gapsMs: number[] }>
  wrk: Map<string, WrkResult>
  /** inferwatch / pipe throughput, the median of per-round ratios (_stats.ts pairedRatio). */
  throughputVsPipe?: number
  cpuUsPerRequest: Map<string, number>
  rssAfterWrk: Map<string, number>
  held: Map<string, { rss: number; ok: number }>
  largeTtftMs: Map<string, number[]>
  rssAfterLarge: Map<string, number>
  hop: Record<string, number>
}

/** latencyMs key of direct's samples from Portkey's own pass of lane 1 (Portkey's baseline). */
export const PORTKEY_PASS_DIRECT = 'direct (Portkey pass)'

const MB = 1048576
const mbText = (b: number) => `${(b / MB).toFixed(0)} MB`

export function buildRows(m: Measured): Row[] {
  const ran = new Set(m.names)
  const hasPortkey = ran.has('portkey')
  const rows: Row[] = []
  const figuresOf = (f: (n: TargetName) => number) => {
    const out: Partial<Record<TargetName, number>> = {}
    for (const t of TARGETS) {
      if (!ran.has(t)) continue
      const v = f(t)
      // Not measured for this target (Portkey's streaming lanes): '—', no figure.
      if (Number.isFinite(v)) out[t] = v
    }
    return out
  }
  const cellsOf = (
    figures: Partial<Record<TargetName, number>>,
    fmt: (x: number, t: TargetName) => string,
  ) =>
    Object.fromEntries(
      TARGETS.map((t) => [t, figures[t] === undefined ? '—' : fmt(figures[t] as number, t)]),
    ) as Row['cells']

  /** A latency row: direct's own figure, every other target's added to its baseline's (direct
   * measured in the same pass). */
  const added = (
    lane: string,
    f: (n: string) => number,
    goal: (iw: number, pipe: number, portkey: number | undefined) => string,
    baseline: (t: TargetName) => string = () => 'direct',
  ) => {
    const d = f('direct')
    const figures = figuresOf((t) => (t === 'direct' ? d : f(t) - f(baseline(t))))
    const withoutDirect = { ...figures, direct: undefined }
    rows.push({
      lane,
      cells: cellsOf(figures, (x, t) => (t === 'direct' ? fmtMs(x) : fmtAdded(x))),
      ratios: ratiosOf(withoutDirect),
      target: goal(
        figures.inferwatch ?? Number.NaN,
        figures['node-pipe'] ?? Number.NaN,
        figures.portkey,
      ),
      figures,
      unit: 'ms',
      better: 'lower',
    })
  }
  const plain = (
    lane: string,
    f: (n: TargetName) => number,
    fmt: (x: number, t: TargetName) => string,
    unit: string,
    better: Row['better'],
    target = 'reported',
    ratios = true,
  ) => {
    const figures = figuresOf(f)
    rows.push({
      lane,
      cells: cellsOf(figures, fmt),
      ratios: ratios ? ratiosOf(figures) : { nginx: '', pipe: '', portkey: '' },
      target,
      figures,
      unit,
      better,
    })
  }
  const within = (iw: number, pipe: number, ms: number) =>
    `<= pipe +${ms} ms: ${verdict(iw - pipe <= ms)}`

  const lq = (n: string, p: number) => percentile(m.latencyMs.get(n) ?? [], p)
  const latencyBase = (t: TargetName) =>
    t === 'portkey' && m.latencyMs.has(PORTKEY_PASS_DIRECT) ? PORTKEY_PASS_DIRECT : 'direct'
  added(
    '1 added latency p50',
    (n) => lq(n, 0.5),
    (iw, pipe, pk) =>
      `${within(iw, pipe, 0.15)}; <= 1/3 Portkey: ${pk === undefined ? 'n/a' : verdict(iw <= pk / 3)}`,
    latencyBase,
  )
  added(
    '1 added latency p90',
    (n) => lq(n, 0.9),
    () => 'reported',
    latencyBase,
  )
  added(
    '1 added latency p99',
    (n) => lq(n, 0.99),
    () => 'reported',
    latencyBase,
  )
  const sq = (n: string, k: 'ttftMs' | 'gapsMs', p: number) =>
    percentile(m.streaming.get(n)?.[k] ?? [], p)
  added(
    '2 streaming TTFT p50',
    (n) => sq(n, 'ttftMs', 0.5),
    () => 'reported',
  )
  added(
    '2 streaming TTFT p99',
    (n) => sq(n, 'ttftMs', 0.99),
    (iw, pipe) => within(iw, pipe, 1),
  )
  added(
    '2 inter-chunk gap p99',
    (n) => sq(n, 'gapsMs', 0.99),
    (iw, pipe) => within(iw, pipe, 0.2),
  )
  const rps = (n: string) => m.wrk.get(n)?.requestsPerSec ?? Number.NaN
  const iwRps = rps('inferwatch')
  const paired = m.throughputVsPipe
  const vsPipe =
    paired !== undefined && Number.isFinite(paired)
      ? `>= 0.9x pipe (round by round: ${fmtRatio(paired)}): ${verdict(paired >= 0.9)}`
      : `>= 0.9x pipe: ${verdict(iwRps >= 0.9 * rps('node-pipe'))}`
  plain(
    '3 throughput, wrk -c32 (req/s)',
    rps,
    (x) => x.toFixed(0),
    'req/s',
    'higher',
    `${vsPipe}; >= 2x Portkey: ${hasPortkey ? verdict(iwRps >= 2 * rps('portkey')) : 'n/a'}`,
  )
  plain('3 wrk latency p99', (n) => m.wrk.get(n)?.p99Ms ?? Number.NaN, fmtMs, 'ms', 'lower')
  plain(
    '3 proxy CPU per request (µs)',
    (n) => m.cpuUsPerRequest.get(n) ?? Number.NaN,
    (x, t) => `${x.toFixed(0)}${t === 'direct' ? ' (stub)' : ''}`,
    'µs',
    'lower',
  )
  plain(
    '3 RSS after wrk',
    (n) => m.rssAfterWrk.get(n) ?? Number.NaN,
    mbText,
    'bytes',
    'lower',
    'reported',
    false,
  )
  const gq = (n: string, p: number) => percentile(m.largeTtftMs.get(n) ?? [], p)
  added(
    '4 1 MB prompt TTFT p50',
    (n) => gq(n, 0.5),
    (iw, pipe) => within(iw, pipe, 1),
  )
  added(
    '4 1 MB prompt TTFT p90',
    (n) => gq(n, 0.9),
    () => 'reported',
  )
  plain(
    '4 RSS after the 1 MB prompts',
    (n) => m.rssAfterLarge.get(n) ?? Number.NaN,
    (x, t) =>
      `${mbText(x)}${t === 'direct' ? ' (stub)' : t === 'inferwatch' ? ' (tokenizer loaded)' : ''}`,
    'bytes',
    'lower',
    'reported',
    false,
  )
  const iwHeld = m.held.get('inferwatch')?.rss ?? Number.POSITIVE_INFINITY
  plain(
    `5 RSS holding ${m.manyStreams} streams`,
    (n) => m.held.get(n)?.rss ?? Number.NaN,
    (x, t) => {
      const ok = m.held.get(t)?.ok ?? 0
      return `${mbText(x)}${ok < m.manyStreams ? ` (${ok} ok)` : ''}${t === 'direct' ? ' (stub)' : ''}`
    },
    'bytes',
    'lower',
    m.manyStreams === 1000 ? `<= 150 MB: ${verdict(iwHeld <= 150 * MB)}` : 'reported',
    false,
  )
  const us = (x: number | undefined) =>
    x === undefined || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(0)} µs`
  const hop = m.hop
  rows.push({
    lane: '6 CPU per hop, one process (added µs)',
    cells: {
      direct: `${us(hop.direct)} (exchange)`,
      nginx: '—',
      'node-pipe': `+${us(hop['node-pipe'])}`,
      portkey: '—',
      inferwatch: `+${us(hop.metered)} (transport alone +${us(hop.transport)}; with a bearer key and user field +${us(hop.attributed)})`,
    },
    ratios: {
      nginx: '',
      pipe: fmtRatio((hop.metered ?? Number.NaN) / (hop['node-pipe'] ?? Number.NaN)),
      portkey: '',
    },
    target: 'reported',
    figures: {
      direct: hop.direct,
      'node-pipe': hop['node-pipe'],
      inferwatch: hop.metered,
    },
    unit: 'µs',
    better: 'lower',
  })
  return rows
}
