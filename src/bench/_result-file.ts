// Reads a result JSON back (for `bench compare` and the HTML report): the fields the reports use,
// checked, never cast; anything else in the file is ignored.
import { AppError } from '../shared/index.js'
import type { CrossCheck, GaugeSample } from './run-bench.js'

export interface ResultView {
  title: string
  date: string
  backend: string
  model: string
  baseUrl: string
  /** Every numeric top-level key (mean_ttft_ms, request_throughput, ...). */
  figures: Record<string, number>
  ttftsS: number[]
  latenciesS: number[]
  itlsS: number[][]
  outputLens: number[]
  startTimesS: number[]
  errors: string[]
  samples: GaugeSample[]
  crossCheck?: CrossCheck
  steps: { label: string; figures: Record<string, number> }[]
}

type Json = Record<string, unknown>
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown, d = '') => (typeof v === 'string' ? v : d)

function numbers(v: unknown, key: string, where: string): number[] {
  if (v === undefined) return []
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number'))
    throw bad(where, `"${key}" is not a list of numbers`)
  return v as number[]
}

function bad(where: string, why: string) {
  return new AppError(
    'BENCH_RESULT_INVALID',
    `${where} is not an inferwatch bench result: ${why}`,
    {
      hint: 'pass JSON files that `inferwatch bench --out DIR` wrote',
    },
  )
}

function figuresOf(j: Json): Record<string, number> {
  const f: Record<string, number> = {}
  for (const [k, v] of Object.entries(j)) if (typeof v === 'number' && Number.isFinite(v)) f[k] = v
  return f
}

export function parseResultFile(value: unknown, where: string): ResultView {
  if (!isObj(value)) throw bad(where, 'not a JSON object')
  const j = value
  if (typeof j.completed !== 'number' || typeof j.failed !== 'number')
    throw bad(where, 'no "completed" and "failed" counts')
  const iw = isObj(j.inferwatch) ? j.inferwatch : {}
  const itls = j.itls === undefined ? [] : j.itls
  if (!Array.isArray(itls)) throw bad(where, '"itls" is not a list')
  const samples = Array.isArray(iw.samples)
    ? iw.samples.filter(
        (s): s is GaugeSample =>
          isObj(s) && typeof s.tMs === 'number' && typeof s.source === 'string',
      )
    : []
  const steps = Array.isArray(j.steps)
    ? j.steps
        .filter(isObj)
        .map((s, i) => ({ label: str(s.label, `step ${i + 1}`), figures: figuresOf(s) }))
    : []
  const view: ResultView = {
    title: str(j.label, str(j.run_name, where)),
    date: str(j.date),
    backend: str(j.backend),
    model: str(j.model_id),
    baseUrl: str(j.base_url),
    figures: figuresOf(j),
    ttftsS: numbers(j.ttfts, 'ttfts', where),
    latenciesS: numbers(j.latencies, 'latencies', where),
    itlsS: itls.map((x, i) => numbers(x, `itls[${i}]`, where)),
    outputLens: numbers(j.output_lens, 'output_lens', where),
    startTimesS: numbers(j.start_times, 'start_times', where),
    errors: Array.isArray(j.errors) ? j.errors.map((e) => str(e)) : [],
    samples,
    steps,
  }
  if (
    isObj(iw.cross_check) &&
    isObj(iw.cross_check.client) &&
    Array.isArray(iw.cross_check.sources)
  )
    view.crossCheck = iw.cross_check as unknown as CrossCheck
  return view
}

/** Per-request TPOT in ms from the per-request arrays (successes with 2+ tokens). */
export function tpotsMs(v: ResultView): number[] {
  const out: number[] = []
  v.latenciesS.forEach((l, i) => {
    const n = v.outputLens[i] ?? 0
    if (v.errors[i] || n < 2) return
    out.push(((l - (v.ttftsS[i] ?? 0)) * 1000) / (n - 1))
  })
  return out
}

export const okMs = (v: ResultView, xs: number[]) =>
  xs.filter((_, i) => !v.errors[i]).map((x) => x * 1000)
