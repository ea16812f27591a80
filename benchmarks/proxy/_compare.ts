// `bench:proxy --compare previous.json`: this run's figures against an earlier run's, per lane and
// target. Absolute times wander on a shared machine, so changes within NOISE are not flagged; the
// ratio rows (inferwatch / reference, measured side by side) are the ones to trust.
import { readFileSync } from 'node:fs'
import { type Row, TARGETS } from './_report.js'

/** Relative changes smaller than this are shown but not called better or worse. */
export const NOISE = 0.1

export interface RunFigures {
  machine: string
  rows: readonly Pick<Row, 'lane' | 'figures' | 'unit' | 'better'>[]
}

export function loadRun(file: string): RunFigures {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new Error(
      `--compare ${file}: cannot read it as JSON (${err instanceof Error ? err.message : String(err)}); pass a file bench:proxy wrote under bench-results/`,
    )
  }
  const run = parsed as Partial<RunFigures>
  if (!Array.isArray(run.rows) || !run.rows.some((r) => r && typeof r.figures === 'object')) {
    throw new Error(
      `--compare ${file}: no per-lane figures in it (written by an older bench:proxy?); run the benchmark once more and compare with that file`,
    )
  }
  return { machine: String(run.machine ?? 'unknown machine'), rows: run.rows }
}

const fmt = (x: number, unit: string) => {
  if (unit === 'bytes') return `${(x / 1048576).toFixed(1)} MB`
  if (unit === 'ms') return `${x.toFixed(3)} ms`
  return `${x.toFixed(0)} ${unit}`
}

/** A Markdown table of every figure both runs have: previous, now, change, verdict. */
export function compareRuns(previous: RunFigures, now: RunFigures): string {
  const before = new Map(previous.rows.map((r) => [r.lane, r]))
  const out = [
    `Compared with ${previous.machine} (changes under ${NOISE * 100}% are noise on a shared machine)`,
    '',
    '| lane | target | previous | now | change | |',
    '|---|---|---|---|---|---|',
  ]
  for (const row of now.rows) {
    const old = before.get(row.lane)
    if (!old) continue
    for (const t of TARGETS) {
      const a = old.figures[t]
      const b = row.figures[t]
      if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b)) continue
      const rel = a === 0 ? Number.NaN : (b - a) / Math.abs(a)
      const worse = row.better === 'lower' ? rel > NOISE : rel < -NOISE
      const better = row.better === 'lower' ? rel < -NOISE : rel > NOISE
      const sign = b - a >= 0 ? '+' : '-'
      const change = `${sign}${fmt(Math.abs(b - a), row.unit)}${Number.isFinite(rel) ? ` (${rel >= 0 ? '+' : ''}${(rel * 100).toFixed(0)}%)` : ''}`
      out.push(
        `| ${row.lane} | ${t} | ${fmt(a, row.unit)} | ${fmt(b, row.unit)} | ${change} | ${worse ? 'WORSE' : better ? 'better' : ''} |`,
      )
    }
  }
  return out.join('\n')
}
