// `inferwatch bench compare A.json B.json`: the A/B table (each figure, its change and whether
// that is better) and an HTML page with both runs' latency CDFs overlaid.
import { readFileSync } from 'node:fs'
import { AppError } from '../shared/index.js'
import { cdfCharts, htmlTable, page } from './_html.js'
import { parseResultFile, type ResultView } from './_result-file.js'
import { escapeXml } from './_svg.js'
import { table } from './_table.js'

const ROWS: { key: string; label: string; higherIsBetter: boolean }[] = [
  { key: 'completed', label: 'completed', higherIsBetter: true },
  { key: 'failed', label: 'failed', higherIsBetter: false },
  { key: 'request_throughput', label: 'request throughput (req/s)', higherIsBetter: true },
  { key: 'request_goodput', label: 'goodput (req/s)', higherIsBetter: true },
  { key: 'output_throughput', label: 'output throughput (tok/s)', higherIsBetter: true },
  { key: 'max_concurrency_seen', label: 'peak in flight', higherIsBetter: true },
  { key: 'mean_ttft_ms', label: 'TTFT mean (ms)', higherIsBetter: false },
  { key: 'median_ttft_ms', label: 'TTFT p50 (ms)', higherIsBetter: false },
  { key: 'p99_ttft_ms', label: 'TTFT p99 (ms)', higherIsBetter: false },
  { key: 'mean_tpot_ms', label: 'TPOT mean (ms)', higherIsBetter: false },
  { key: 'p99_tpot_ms', label: 'TPOT p99 (ms)', higherIsBetter: false },
  { key: 'mean_itl_ms', label: 'ITL mean (ms)', higherIsBetter: false },
  { key: 'p99_itl_ms', label: 'ITL p99 (ms)', higherIsBetter: false },
  { key: 'mean_e2el_ms', label: 'E2E mean (ms)', higherIsBetter: false },
  { key: 'p99_e2el_ms', label: 'E2E p99 (ms)', higherIsBetter: false },
  { key: 'mean_client_queue_time_ms', label: 'client queue mean (ms)', higherIsBetter: false },
]

export interface CompareRow {
  label: string
  a: number | undefined
  b: number | undefined
  delta: number | undefined
  /** (b − a) / a; undefined when a is 0 or missing. */
  ratio: number | undefined
  verdict: 'better' | 'worse' | 'same' | ''
}

export function readResultFile(path: string): ResultView {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new AppError('BENCH_RESULT_INVALID', `cannot read ${path}: ${(cause as Error).message}`, {
      cause,
      hint: 'pass two JSON files that `inferwatch bench` wrote',
    })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new AppError('BENCH_RESULT_INVALID', `${path} is not JSON`, {
      cause,
      hint: 'pass two JSON files that `inferwatch bench` wrote',
    })
  }
  return parseResultFile(json, path)
}

export function compareResults(a: ResultView, b: ResultView): CompareRow[] {
  return ROWS.filter((r) => a.figures[r.key] !== undefined || b.figures[r.key] !== undefined).map(
    (r) => {
      const x = a.figures[r.key]
      const y = b.figures[r.key]
      const delta = x !== undefined && y !== undefined ? y - x : undefined
      const ratio = delta !== undefined && x ? delta / Math.abs(x) : undefined
      const same =
        delta !== undefined && (delta === 0 || (ratio !== undefined && Math.abs(ratio) < 0.01))
      const verdict =
        delta === undefined
          ? ''
          : same
            ? 'same'
            : delta > 0 === r.higherIsBetter
              ? 'better'
              : 'worse'
      return { label: r.label, a: x, b: y, delta, ratio, verdict }
    },
  )
}

const v2 = (x: number | undefined) =>
  x === undefined ? '—' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2)
const sign = (x: number | undefined, s: string) =>
  x === undefined ? '—' : `${x > 0 ? '+' : ''}${s}`

export function renderCompareTable(
  a: ResultView,
  b: ResultView,
  rows = compareResults(a, b),
): string {
  return `A: ${a.title} (${a.date})\nB: ${b.title} (${b.date})\n\n${table([
    ['', 'A', 'B', 'Δ', 'Δ %', 'B vs A'],
    ...rows.map((r) => [
      r.label,
      v2(r.a),
      v2(r.b),
      sign(r.delta, v2(r.delta)),
      sign(r.ratio, r.ratio === undefined ? '' : `${(r.ratio * 100).toFixed(1)} %`),
      r.verdict,
    ]),
  ])}\n`
}

export function renderCompareHtml(
  a: ResultView,
  b: ResultView,
  rows = compareResults(a, b),
): string {
  const body = htmlTable(
    rows.map((r) => [
      escapeXml(r.label),
      r.a ?? Number.NaN,
      r.b ?? Number.NaN,
      r.delta ?? Number.NaN,
      r.ratio === undefined ? '—' : `${(r.ratio * 100).toFixed(1)} %`,
      `<span class="${r.verdict}">${r.verdict}</span>`,
    ]),
    ['', 'A', 'B', 'Δ', 'Δ %', 'B vs A'],
  )
  return page(
    `inferwatch bench compare: A ${a.title} vs B ${b.title}`,
    `<p class="muted">A: ${escapeXml(a.title)} (${escapeXml(a.date)})<br>B: ${escapeXml(b.title)} (${escapeXml(b.date)})</p>${body}<h2>Latency CDFs</h2><div class="charts">${cdfCharts(
      [
        { name: 'A', v: a },
        { name: 'B', v: b },
      ],
    )}</div>`,
  )
}
