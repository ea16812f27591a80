// The benchmark's table: one row per measured figure ("lane"), one column per target, then
// inferwatch's ratio to nginx, to the bare Node pipe and to Portkey. Each row keeps its numbers
// (`figures`) next to the text, so the JSON can be compared with a later run (_compare.ts).

export const TARGETS = ['direct', 'nginx', 'node-pipe', 'portkey', 'inferwatch'] as const
export type TargetName = (typeof TARGETS)[number]

export interface Row {
  lane: string
  /** Text per target ('—' where not measured). */
  cells: Record<TargetName, string>
  /** inferwatch / nginx, / bare pipe, / Portkey ('' where a ratio means nothing). */
  ratios: { nginx: string; pipe: string; portkey: string }
  target: string
  /** The numbers behind the cells (added ms for the added-latency rows), per target. */
  figures: Partial<Record<TargetName, number>>
  /** What the figures are: 'ms', 'req/s', 'µs', 'bytes'. */
  unit: string
  /** Lower is better (latency, CPU, RSS) or higher (throughput). */
  better: 'lower' | 'higher'
}

const HEAD = [
  'lane',
  'direct',
  'nginx',
  'bare Node pipe (ref.)',
  'Portkey',
  'inferwatch',
  'iw/nginx',
  'iw/pipe',
  'iw/Portkey',
  'target',
]

export function renderTable(rows: readonly Row[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`
  return [
    line(HEAD),
    `|${HEAD.map(() => '---').join('|')}|`,
    ...rows.map((r) =>
      line([
        r.lane,
        ...TARGETS.map((t) => r.cells[t]),
        r.ratios.nginx,
        r.ratios.pipe,
        r.ratios.portkey,
        r.target,
      ]),
    ),
  ].join('\n')
}

/** inferwatch's figure over each reference's, formatted; '' where either is missing. */
export function ratiosOf(figures: Partial<Record<TargetName, number>>): Row['ratios'] {
  const iw = figures.inferwatch
  const of = (t: TargetName) => {
    const ref = figures[t]
    return iw === undefined || ref === undefined || !(ref > 0) ? '' : fmtRatio(iw / ref)
  }
  return { nginx: of('nginx'), pipe: of('node-pipe'), portkey: of('portkey') }
}

export const fmtMs = (ms: number) =>
  Number.isFinite(ms) ? `${ms.toFixed(ms < 10 ? 3 : 1)} ms` : 'n/a'
export const fmtAdded = (ms: number) =>
  Number.isFinite(ms) ? `${ms >= 0 ? '+' : ''}${ms.toFixed(3)} ms` : 'n/a'
export const fmtRatio = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a')
export const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED')
