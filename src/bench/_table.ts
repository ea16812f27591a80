// The terminal report: a run's figures, the side-by-side of client, proxy and engine, and a sweep's
// steps, as aligned plain-text tables.
import type { BenchRun, CrossCheck, LatencyView } from './run-bench.js'
import type { Distribution } from './types.js'

export function table(rows: readonly (readonly string[])[], rightFrom = 1): string {
  const widths: number[] = []
  for (const r of rows)
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length)
    })
  return rows
    .map((r) =>
      r
        .map((c, i) => (i >= rightFrom ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

export const ms = (x: number | undefined) =>
  x === undefined || !Number.isFinite(x)
    ? '—'
    : x >= 100
      ? x.toFixed(0)
      : x >= 10
        ? x.toFixed(1)
        : x.toFixed(2)
const n2 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(2))

function distRow(name: string, d: Distribution): string[] {
  return [
    name,
    String(d.count),
    ms(d.mean),
    ms(d.std),
    ms(d.p50),
    ms(d.p90),
    ms(d.p95),
    ms(d.p99),
    ms(d.p999),
  ]
}

export function renderRun(run: BenchRun): string {
  const s = run.summary
  const a = run.load.arrivals
  const shape =
    a.kind === 'closed'
      ? `concurrency ${run.load.maxConcurrency}`
      : `${a.kind === 'gamma' ? (a.burstiness === 1 ? 'Poisson' : `gamma(${a.burstiness})`) : 'constant'} ${a.ratePerSecond} req/s${Number.isFinite(run.load.maxConcurrency) ? `, at most ${run.load.maxConcurrency} in flight` : ''}`
  const errors = Object.entries(s.errorsByKind)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
  const lines = [
    `${run.label ? `${run.label}: ` : ''}${run.target.endpoint} ${run.target.baseUrl} model ${run.target.model}, ${shape}, stopped by ${run.stopReason}`,
    '',
    table(
      [
        [
          'requests',
          `${s.completed} ok, ${s.failed} failed${s.timeouts ? ` (${s.timeouts} timeouts)` : ''}${s.aborted ? `, ${s.aborted} interrupted` : ''}`,
        ],
        ...(errors ? [['errors', errors]] : []),
        ['duration', `${s.durationS.toFixed(2)} s`],
        ['request throughput', `${n2(s.requestThroughput)} req/s`],
        ...(s.requestGoodput !== undefined
          ? [
              [
                'goodput',
                `${n2(s.requestGoodput)} req/s (${((s.sloAttainment ?? 0) * 100).toFixed(1)} % of requests met the SLO)`,
              ],
            ]
          : []),
        ['output throughput', `${n2(s.outputThroughput)} tok/s`],
        ['tokens in / out', `${s.totalInputTokens} / ${s.totalOutputTokens}`],
        [
          'prompt lengths',
          s.promptChecked
            ? `${s.promptChecked - s.promptMismatches} of ${s.promptChecked} exactly as the server counted`
            : 'the server reported no prompt usage',
        ],
        ['peak in flight', String(s.maxConcurrencySeen)],
      ],
      2,
    ),
    '',
    `latency (ms${run.fromScheduled ? ', from the scheduled send time' : ''})`,
    table([
      ['metric', 'n', 'mean', 'std', 'p50', 'p90', 'p95', 'p99', 'p99.9'],
      distRow('TTFT', s.ttft),
      distRow('TPOT', s.tpot),
      distRow('ITL', s.itl),
      distRow('E2E', s.e2el),
      distRow('E2E incl. failed', s.e2elAll),
      distRow('client queue', s.clientQueue),
      ...(s.roleToContent.count ? [distRow('role chunk→content', s.roleToContent)] : []),
    ]),
  ]
  if (run.crossCheck) lines.push('', renderCrossCheck(run.crossCheck))
  return `${lines.join('\n')}\n`
}

const lat = (v: LatencyView | undefined, k: keyof LatencyView) => (v ? ms(v[k]) : '—')
const num = (x: number | undefined) => (x === undefined ? '—' : String(Math.round(x)))

export function renderCrossCheck(c: CrossCheck): string {
  const head = ['', 'client', ...c.sources.map((s) => `${s.kind} (${new URL(s.url).host})`)]
  const row = (name: string, client: string, f: (s: CrossCheck['sources'][number]) => string) => [
    name,
    client,
    ...c.sources.map(f),
  ]
  const rows = [
    head,
    row('requests ok', String(c.client.requests), (s) => num(s.delta.requests)),
    row('requests failed', String(c.client.errors), (s) => num(s.delta.errors)),
    row('input tokens', String(c.client.inputTokens), (s) => num(s.delta.inputTokens)),
    row('output tokens', String(c.client.outputTokens), (s) => num(s.delta.outputTokens)),
    row('TTFT mean ms', ms(c.client.ttft.meanMs), (s) => lat(s.ttft, 'meanMs')),
    row('TTFT p50 ms', ms(c.client.ttft.p50Ms), (s) => lat(s.ttft, 'p50Ms')),
    row('TTFT p99 ms', ms(c.client.ttft.p99Ms), (s) => lat(s.ttft, 'p99Ms')),
    row('E2E mean ms', ms(c.client.e2e.meanMs), (s) => lat(s.e2e, 'meanMs')),
    row('E2E p50 ms', ms(c.client.e2e.p50Ms), (s) => lat(s.e2e, 'p50Ms')),
    row('E2E p99 ms', ms(c.client.e2e.p99Ms), (s) => lat(s.e2e, 'p99Ms')),
    row('preemptions', '—', (s) => num(s.delta.preemptions)),
    row('prefix-cache hit rate', '—', (s) =>
      s.prefixHitRate === undefined ? '—' : `${(s.prefixHitRate * 100).toFixed(1)} %`,
    ),
  ]
  return `monitoring cross-check (this run's deltas; server percentiles from histogram buckets)\n${table(rows)}`
}
