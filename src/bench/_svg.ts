// Small dependency-free SVG charts (lines and dots, a left and an optional right axis), inlined in
// the HTML report so it is one self-contained file.

export interface Series {
  name: string
  points: readonly (readonly [number, number])[]
  kind: 'line' | 'dots' | 'step'
  axis?: 'left' | 'right'
}

export interface ChartSpec {
  title: string
  xLabel: string
  yLabel: string
  rightLabel?: string
  series: Series[]
  /** Default: from the data. */
  yMax?: number
  rightMax?: number
}

const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2']
const W = 600
const H = 300
const M = { l: 58, r: 58, t: 30, b: 42 }

export const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

function niceMax(x: number): number {
  if (!(x > 0)) return 1
  const p = 10 ** Math.floor(Math.log10(x))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p
  return 10 * p
}

const fmt = (v: number) =>
  Math.abs(v) >= 1000
    ? `${(v / 1000).toFixed(v % 1000 === 0 ? 0 : 1)}k`
    : String(Number(v.toPrecision(3)))

export function renderChart(c: ChartSpec): string {
  const pts = c.series.flatMap((s) => s.points)
  const left = c.series.filter((s) => s.axis !== 'right').flatMap((s) => s.points)
  const right = c.series.filter((s) => s.axis === 'right').flatMap((s) => s.points)
  const xMin = Math.min(0, ...pts.map((p) => p[0]))
  const xMax = niceMax(Math.max(...pts.map((p) => p[0]), 0))
  const yMax = c.yMax ?? niceMax(Math.max(...left.map((p) => p[1]), 0))
  const rMax = c.rightMax ?? niceMax(Math.max(...right.map((p) => p[1]), 0))
  const pw = W - M.l - M.r
  const ph = H - M.t - M.b
  const X = (x: number) => M.l + ((x - xMin) / (xMax - xMin || 1)) * pw
  const Y = (y: number, axis?: 'left' | 'right') =>
    M.t + ph - (Math.max(0, y) / ((axis === 'right' ? rMax : yMax) || 1)) * ph
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(c.title)}" class="chart">`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-weight="600">${escapeXml(c.title)}</text>`,
  ]
  for (let i = 0; i <= 4; i++) {
    const y = M.t + (ph * i) / 4
    out.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`)
    out.push(
      `<text x="${M.l - 6}" y="${y + 4}" text-anchor="end">${fmt(yMax * (1 - i / 4))}</text>`,
    )
    if (right.length)
      out.push(`<text x="${W - M.r + 6}" y="${y + 4}">${fmt(rMax * (1 - i / 4))}</text>`)
    const x = M.l + (pw * i) / 4
    out.push(
      `<text x="${x}" y="${H - M.b + 16}" text-anchor="middle">${fmt(xMin + ((xMax - xMin) * i) / 4)}</text>`,
    )
  }
  out.push(
    `<text x="${M.l + pw / 2}" y="${H - 6}" text-anchor="middle">${escapeXml(c.xLabel)}</text>`,
    `<text transform="translate(14 ${M.t + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(c.yLabel)}</text>`,
  )
  if (c.rightLabel && right.length)
    out.push(
      `<text transform="translate(${W - 10} ${M.t + ph / 2}) rotate(90)" text-anchor="middle">${escapeXml(c.rightLabel)}</text>`,
    )
  c.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]
    const name = escapeXml(s.name)
    if (s.kind === 'dots') {
      const dots = s.points
        .map(
          (p) => `<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1], s.axis).toFixed(1)}" r="1.6"/>`,
        )
        .join('')
      out.push(
        `<g class="series" data-series="${name}" fill="${color}" fill-opacity="0.6">${dots}</g>`,
      )
    } else if (s.points.length) {
      let d = ''
      s.points.forEach((p, j) => {
        const x = X(p[0]).toFixed(1)
        const y = Y(p[1], s.axis).toFixed(1)
        if (j === 0) d += `M${x} ${y}`
        else if (s.kind === 'step') d += `H${x}V${y}`
        else d += `L${x} ${y}`
      })
      out.push(
        `<path class="series" data-series="${name}" d="${d}" fill="none" stroke="${color}" stroke-width="1.8"/>`,
      )
    }
    out.push(
      `<rect x="${M.l + 8 + i * 150}" y="${M.t + 4}" width="10" height="10" fill="${color}"/><text x="${M.l + 22 + i * 150}" y="${M.t + 13}">${name}</text>`,
    )
  })
  out.push('</svg>')
  return out.join('')
}

/** Points of the empirical CDF of `values`, at most `max` of them. */
export function cdfPoints(values: readonly number[], max = 400): [number, number][] {
  const s = Float64Array.from(values).sort()
  const n = s.length
  if (n === 0) return []
  const step = Math.max(1, Math.floor(n / max))
  const pts: [number, number][] = []
  for (let i = 0; i < n; i += step) pts.push([s[i] as number, (i + 1) / n])
  pts.push([s[n - 1] as number, 1])
  return pts
}

/** Every `k`-th element so that at most `max` remain. */
export function thin<T>(xs: readonly T[], max: number): T[] {
  const step = Math.max(1, Math.ceil(xs.length / max))
  return step === 1 ? [...xs] : xs.filter((_, i) => i % step === 0)
}
