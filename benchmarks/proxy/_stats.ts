/** Nearest-rank percentile of unsorted samples (q in 0..1). */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = Float64Array.from(samples).sort()
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank] as number
}

/** One target's result in one round of a lane measured round by round. */
export interface RoundFigure {
  round: number
  name: string
  value: number
}

/**
 * The median over rounds of (mean of `a`'s values in the round) / (mean of `b`'s): each ratio
 * compares runs made minutes apart at most, so a machine that is slower for a while (a neighbour
 * on the host) moves both sides of it. Rounds missing either side are skipped; NaN if none has both.
 */
export function pairedRatio(figures: readonly RoundFigure[], a: string, b: string): number {
  const sums = new Map<number, { a: number[]; b: number[] }>()
  for (const f of figures) {
    if (f.name !== a && f.name !== b) continue
    const s = sums.get(f.round) ?? { a: [], b: [] }
    ;(f.name === a ? s.a : s.b).push(f.value)
    sums.set(f.round, s)
  }
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length
  const ratios = [...sums.values()]
    .filter((s) => s.a.length > 0 && s.b.length > 0)
    .map((s) => mean(s.a) / mean(s.b))
  return percentile(ratios, 0.5)
}
