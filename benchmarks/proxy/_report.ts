export interface Row {
  lane: string
  direct: string
  nginx: string
  nodePipe: string
  inferwatch: string
  ratio: string
  target: string
}

export function renderTable(rows: readonly Row[]): string {
  const head: Row = {
    lane: 'lane',
    direct: 'direct',
    nginx: 'nginx',
    nodePipe: 'bare Node pipe (ref.)',
    inferwatch: 'inferwatch',
    ratio: 'ratio (iw/nginx)',
    target: 'target',
  }
  const cols = Object.keys(head) as (keyof Row)[]
  const line = (r: Row) => `| ${cols.map((c) => r[c]).join(' | ')} |`
  return [line(head), `|${cols.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n')
}

export const fmtMs = (ms: number) =>
  Number.isFinite(ms) ? `${ms.toFixed(ms < 10 ? 3 : 1)} ms` : 'n/a'
export const fmtAdded = (ms: number) =>
  Number.isFinite(ms) ? `${ms >= 0 ? '+' : ''}${ms.toFixed(3)} ms` : 'n/a'
export const fmtRatio = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a')
export const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED')
