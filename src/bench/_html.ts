// The HTML reports: one self-contained file (inline CSS and SVG, no scripts, no network).
import { okMs, type ResultView, tpotsMs } from './_result-file.js'
import { cdfPoints, escapeXml, renderChart, type Series, thin } from './_svg.js'

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#111;max-width:1320px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{font-size:11px;background:#fff;border:1px solid #eee}
.better{color:#047857}.worse{color:#b91c1c}.muted{color:#666}`

const f = (x: number | undefined, d = 2) =>
  x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d)

function htmlTable(rows: (string | number)[][], head: string[]): string {
  const th = head.map((h) => `<th>${escapeXml(h)}</th>`).join('')
  const body = rows
    .map((r) => `<tr>${r.map((c) => `<td>${typeof c === 'number' ? f(c) : c}</td>`).join('')}</tr>`)
    .join('')
  return `<table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`
}

export const LATENCY_KEYS = ['ttft', 'tpot', 'itl', 'e2el', 'client_queue_time'] as const
const STAT_KEYS = ['mean', 'median', 'std', 'p90', 'p95', 'p99', 'p99.9'] as const

function latencyTable(v: ResultView): string {
  return htmlTable(
    LATENCY_KEYS.map((k) => [k, ...STAT_KEYS.map((s) => v.figures[`${s}_${k}_ms`] ?? Number.NaN)]),
    ['ms', ...STAT_KEYS],
  )
}

export function latencySeries(v: ResultView): Record<string, number[]> {
  return {
    TTFT: okMs(v, v.ttftsS),
    TPOT: tpotsMs(v),
    ITL: v.itlsS.flat().map((x) => x * 1000),
    E2E: okMs(v, v.latenciesS),
  }
}

function cdfCharts(views: { name: string; v: ResultView }[]): string {
  const per = views.map(({ name, v }) => ({ name, s: latencySeries(v) }))
  return ['TTFT', 'TPOT', 'ITL', 'E2E']
    .map((metric) =>
      renderChart({
        title: `${metric} CDF`,
        xLabel: `${metric} (ms)`,
        yLabel: 'share of requests',
        yMax: 1,
        series: per.map(({ name, s }) => ({
          name: views.length > 1 ? name : metric,
          kind: 'line',
          points: cdfPoints(s[metric] ?? []),
        })),
      }),
    )
    .join('')
}

function timeChart(v: ResultView): string {
  const ttft: [number, number][] = []
  v.startTimesS.forEach((t, i) => {
    if (!v.errors[i]) ttft.push([t, (v.ttftsS[i] ?? 0) * 1000])
  })
  const series: Series[] = [{ name: 'TTFT (ms)', kind: 'dots', points: thin(ttft, 4000) }]
  const bySource = new Map<string, typeof v.samples>()
  for (const s of v.samples) bySource.set(s.source, [...(bySource.get(s.source) ?? []), s])
  let kv = false
  for (const [source, ss] of bySource) {
    const host = (() => {
      try {
        return new URL(source).host
      } catch {
        return source
      }
    })()
    const kvPts = ss
      .filter((s) => s.kvUsage !== undefined)
      .map((s) => [s.tMs / 1000, (s.kvUsage ?? 0) * 100] as const)
    if (kvPts.length) {
      kv = true
      series.push({ name: `KV usage % (${host})`, kind: 'line', axis: 'right', points: kvPts })
    }
  }
  const chart1 = renderChart({
    title: 'TTFT over the run, against KV-cache usage',
    xLabel: 'seconds since start (request sent)',
    yLabel: 'TTFT (ms)',
    ...(kv ? { rightLabel: 'KV cache usage %', rightMax: 100 } : {}),
    series,
  })
  const queue: Series[] = []
  for (const [source, ss] of bySource) {
    const w = ss
      .filter((s) => s.waiting !== undefined)
      .map((s) => [s.tMs / 1000, s.waiting ?? 0] as const)
    const r = ss
      .filter((s) => s.running !== undefined)
      .map((s) => [s.tMs / 1000, s.running ?? 0] as const)
    if (w.length) queue.push({ name: `waiting (${source})`, kind: 'step', points: w })
    if (r.length) queue.push({ name: `running (${source})`, kind: 'step', points: r })
  }
  const chart2 = queue.length
    ? renderChart({
        title: 'Engine queue during the run',
        xLabel: 'seconds since start',
        yLabel: 'requests',
        series: queue,
      })
    : ''
  return chart1 + chart2
}

function sweepChart(v: ResultView): string {
  if (v.steps.length === 0) return ''
  const pts = v.steps.map(
    (s) => [s.figures.max_concurrency_seen ?? 0, s.figures.output_throughput ?? 0] as const,
  )
  const p99 = v.steps.map(
    (s) => [s.figures.max_concurrency_seen ?? 0, s.figures.p99_ttft_ms ?? 0] as const,
  )
  const sorted = (x: readonly (readonly [number, number])[]) => [...x].sort((a, b) => a[0] - b[0])
  return renderChart({
    title: 'Throughput against concurrency (sweep)',
    xLabel: 'peak requests in flight',
    yLabel: 'output tokens/s',
    rightLabel: 'TTFT p99 (ms)',
    series: [
      { name: 'output tok/s', kind: 'line', points: sorted(pts) },
      { name: 'TTFT p99 ms', kind: 'line', axis: 'right', points: sorted(p99) },
    ],
  })
}

function crossCheckTable(v: ResultView): string {
  const c = v.crossCheck
  if (!c) return ''
  const head = ['', 'client', ...c.sources.map((s) => `${s.kind} ${s.url}`)]
  const rows: (string | number)[][] = [
    [
      'requests ok',
      String(c.client.requests),
      ...c.sources.map((s) => String(s.delta.requests ?? '—')),
    ],
    [
      'input tokens',
      String(c.client.inputTokens),
      ...c.sources.map((s) => String(s.delta.inputTokens ?? '—')),
    ],
    [
      'output tokens',
      String(c.client.outputTokens),
      ...c.sources.map((s) => String(s.delta.outputTokens ?? '—')),
    ],
    ['TTFT mean ms', c.client.ttft.meanMs, ...c.sources.map((s) => s.ttft?.meanMs ?? Number.NaN)],
    ['TTFT p99 ms', c.client.ttft.p99Ms, ...c.sources.map((s) => s.ttft?.p99Ms ?? Number.NaN)],
    ['E2E mean ms', c.client.e2e.meanMs, ...c.sources.map((s) => s.e2e?.meanMs ?? Number.NaN)],
    ['E2E p99 ms', c.client.e2e.p99Ms, ...c.sources.map((s) => s.e2e?.p99Ms ?? Number.NaN)],
    ['preemptions', '—', ...c.sources.map((s) => String(s.delta.preemptions ?? '—'))],
    [
      'prefix-cache hit rate',
      '—',
      ...c.sources.map((s) =>
        s.prefixHitRate === undefined ? '—' : `${(s.prefixHitRate * 100).toFixed(1)} %`,
      ),
    ],
  ]
  return `<h2>Monitoring cross-check</h2><p class="muted">The same requests as the client, the proxy and the engine recorded them (counter and histogram deltas over the run; server percentiles from buckets).</p>${htmlTable(rows, head)}`
}

const SUMMARY_KEYS = [
  'completed',
  'failed',
  'timeouts',
  'duration',
  'request_throughput',
  'request_goodput',
  'output_throughput',
  'total_token_throughput',
  'total_input_tokens',
  'total_output_tokens',
  'max_concurrency_seen',
] as const

export function renderReportHtml(v: ResultView): string {
  const summary = htmlTable(
    SUMMARY_KEYS.filter((k) => v.figures[k] !== undefined).map((k) => [k, v.figures[k] as number]),
    ['figure', 'value'],
  )
  const steps = v.steps.length
    ? `<h2>Sweep steps</h2>${htmlTable(
        v.steps.map((s) => [
          escapeXml(s.label),
          ...[
            'request_throughput',
            'output_throughput',
            'max_concurrency_seen',
            'p99_ttft_ms',
            'p99_e2el_ms',
            'failed',
          ].map((k) => s.figures[k] ?? Number.NaN),
        ]),
        ['step', 'req/s', 'out tok/s', 'peak in flight', 'TTFT p99 ms', 'E2E p99 ms', 'failed'],
      )}`
    : ''
  return page(
    `inferwatch bench: ${v.title}`,
    `<p class="muted">${escapeXml(v.date)} · ${escapeXml(v.backend)} ${escapeXml(v.baseUrl)} · model ${escapeXml(v.model)}</p>
<h2>Summary</h2>${summary}<h2>Latency</h2>${latencyTable(v)}${crossCheckTable(v)}${steps}
<h2>Charts</h2><div class="charts">${cdfCharts([{ name: v.title, v }])}${timeChart(v)}${sweepChart(v)}</div>`,
  )
}

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title><style>${CSS}</style></head><body><h1>${escapeXml(title)}</h1>${body}</body></html>\n`
}

export { cdfCharts, htmlTable }
