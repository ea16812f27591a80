import type { Panel, SeriesData } from './api.js'
import { type Column, cssVar, type Elem, el, type UPlot, type UPlotSeries, win } from './dom.js'
import { formatAxis, formatValue, legendOf } from './format.js'
import type { Strings } from './i18n.js'

// One uPlot chart per panel, all on the same time range and one crosshair (cursor sync). The
// legend is ours (buttons: keyboard reachable, text only); threshold lines are drawn on the canvas.

const PALETTE = ['--s1', '--s2', '--s3', '--s4', '--s5', '--s6', '--s7', '--s8']
/** Beyond colour: every other series dashed, so lines differ for every reader. */
const DASHES: (number[] | undefined)[] = [
  undefined,
  [6, 3],
  undefined,
  [2, 3],
  undefined,
  [8, 3, 2, 3],
]

export interface Window {
  start: number
  end: number
  step: number
}

interface Line {
  label: string
  unit: string
  scale: string
}

interface Chart {
  key: string
  plot: UPlot
  lines: Line[]
  legend: Elem
}

export interface ChartSet {
  /** `empty`: what an empty chart says (no data, or needs Prometheus). */
  update(
    panel: Panel,
    results: (readonly SeriesData[] | undefined)[],
    w: Window,
    empty?: string,
  ): void
  resize(): void
  destroy(): void
}

function widthOf(box: Elem): number {
  return Math.max(240, box.clientWidth)
}

const heightOf = () => (win.matchMedia('(max-width: 600px)').matches ? 180 : 220)

export function createCharts(s: Strings): ChartSet {
  const charts = new Map<string, Chart>()

  const legendValues = (c: Chart, idx: number | null | undefined) => {
    const vals = c.legend.querySelectorAll('.val')
    c.lines.forEach((line, i) => {
      const col = c.plot.data[i + 1] ?? []
      let v = idx === null || idx === undefined ? undefined : col[idx]
      if (idx === null || idx === undefined) {
        for (let j = col.length - 1; j >= 0 && v === undefined; j--) if (col[j] != null) v = col[j]
      }
      const box = vals[i]
      if (box) box.textContent = formatValue(v ?? null, line.unit)
    })
  }

  const build = (panel: Panel, lines: Line[], data: Column[], w: Window, box: Elem) => {
    const plotBox = box.querySelector('.plot') as Elem
    const legend = box.querySelector('.legend') as Elem
    plotBox.replaceChildren()
    const fg = cssVar('--fg')
    const grid = cssVar('--grid')
    const hasRight = lines.some((l) => l.scale === 'y2')
    const rightUnit = lines.find((l) => l.scale === 'y2')?.unit ?? panel.unit
    const top = Math.max(0, ...panel.lines.map((l) => l.value))
    const range = (extra: number) => (_u: unknown, _min: number, max: number) => {
      const hi = Math.max(max, extra) * 1.08
      return [0, hi > 0 ? hi : 1]
    }
    const series: UPlotSeries[] = [
      {},
      ...lines.map((l, i) => ({
        label: l.label,
        scale: l.scale,
        stroke: cssVar(PALETTE[i % PALETTE.length] ?? '--s1'),
        width: 2,
        ...(DASHES[i % DASHES.length] ? { dash: DASHES[i % DASHES.length] } : {}),
        spanGaps: false,
        points: { show: false },
      })),
    ]
    const axis = (scale: string, unit: string, side?: number) => ({
      scale,
      stroke: fg,
      grid: { stroke: grid, show: side === undefined },
      ticks: { stroke: grid },
      size: 64,
      ...(side !== undefined ? { side } : {}),
      values: (_u: unknown, ticks: number[]) => ticks.map((t) => formatAxis(t, unit)),
    })
    const drawLines = (u: UPlot) => {
      const ctx = u.ctx
      const dpr = win.devicePixelRatio || 1
      ctx.save()
      panel.lines.forEach((l, n) => {
        const y = u.valToPos(l.value, 'y', true)
        if (!Number.isFinite(y) || y < u.bbox.top || y > u.bbox.top + u.bbox.height) return
        ctx.strokeStyle = cssVar(l.kind === 'alert' ? '--line-alert' : '--line-reserved')
        ctx.fillStyle = ctx.strokeStyle
        ctx.lineWidth = 1.5 * dpr
        ctx.setLineDash(l.kind === 'alert' ? [6 * dpr, 4 * dpr] : [2 * dpr, 3 * dpr])
        ctx.beginPath()
        ctx.moveTo(u.bbox.left, y)
        ctx.lineTo(u.bbox.left + u.bbox.width, y)
        ctx.stroke()
        ctx.font = `${11 * dpr}px system-ui, sans-serif`
        // Alternate sides, so that close lines (85 %, 90 %, 92 %) keep readable labels.
        const right = n % 2 === 0
        ctx.textAlign = right ? 'right' : 'left'
        ctx.textBaseline = 'bottom'
        const x = right ? u.bbox.left + u.bbox.width - 4 * dpr : u.bbox.left + 4 * dpr
        ctx.fillText(l.label, x, y - 2 * dpr)
      })
      ctx.restore()
    }
    const chart: Chart = { key: panel.key, plot: undefined as unknown as UPlot, lines, legend }
    const UPlotCtor = win.uPlot
    if (!UPlotCtor) throw new Error('the chart library (uPlot) did not load')
    chart.plot = new UPlotCtor(
      {
        width: widthOf(plotBox),
        height: heightOf(),
        series,
        legend: { show: false },
        cursor: { sync: { key: 'inferwatch' }, points: { size: 6 } },
        scales: {
          x: { time: true, range: () => [w.start, w.end] },
          y: { range: range(top) },
          ...(hasRight ? { y2: { range: range(0) } } : {}),
        },
        axes: [
          { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid } },
          axis('y', panel.unit),
          ...(hasRight ? [axis('y2', rightUnit, 1)] : []),
        ],
        hooks: {
          draw: [drawLines],
          setCursor: [(u: UPlot) => legendValues(chart, u.cursor.idx)],
        },
      },
      data,
      plotBox,
    )
    legend.replaceChildren(
      ...lines.map((l, i) => {
        const dash = DASHES[i % DASHES.length]
        const b = el(
          'button',
          { type: 'button', 'aria-pressed': 'true', title: s.toggleSeries },
          el('span', {
            class: `swatch${dash ? (dash[0] === 2 ? ' dot' : ' dash') : ''}`,
            'data-i': String(i),
          }),
          el('span', { class: 'name' }, l.label),
          el('span', { class: 'val' }, ''),
        )
        b.addEventListener('click', () => {
          const on = b.getAttribute('aria-pressed') !== 'true'
          b.setAttribute('aria-pressed', String(on))
          chart.plot.setSeries(i + 1, { show: on })
        })
        return el('li', { class: `s${(i % PALETTE.length) + 1}` }, b)
      }),
      ...panel.lines.map((l) => el('li', { class: `line-note ${l.kind}` }, `┄ ${l.label}`)),
    )
    legendValues(chart, null)
    return chart
  }

  return {
    update(panel, results, w, empty) {
      const box = win.document.getElementById(`chart-${panel.key}`)
      if (!box) return
      const n = Math.round((w.end - w.start) / w.step) + 1
      const xs: Column = Array.from({ length: n }, (_, i) => w.start + i * w.step)
      const lines: Line[] = []
      const cols: Column[] = []
      panel.targets.forEach((t, ti) => {
        for (const series of results[ti] ?? []) {
          const col: Column = new Array(n).fill(null)
          for (const [ts, v] of series.values ?? []) {
            const i = Math.round((ts - w.start) / w.step)
            const num = Number(v)
            if (i >= 0 && i < n && Number.isFinite(num)) col[i] = num
          }
          const unit = t.unit ?? panel.unit
          lines.push({
            label: legendOf(t.legend, series.metric) || s.total,
            unit,
            scale: unit === panel.unit ? 'y' : 'y2',
          })
          cols.push(col)
        }
      })
      const data = [xs, ...cols]
      const old = charts.get(panel.key)
      const same =
        old &&
        old.lines.length === lines.length &&
        old.lines.every((l, i) => l.label === lines[i]?.label) &&
        old.plot.data[0]?.[0] === xs[0] &&
        old.plot.data[0]?.length === xs.length
      const plotBox = box.querySelector('.plot') as Elem
      if (lines.length === 0) {
        old?.plot.destroy()
        charts.delete(panel.key)
        box.querySelector('.legend')?.replaceChildren()
        plotBox.replaceChildren(el('p', { class: 'empty' }, empty ?? s.noData))
        return
      }
      if (same && old) {
        old.plot.setData(data)
        legendValues(old, old.plot.cursor.idx)
        return
      }
      old?.plot.destroy()
      charts.set(panel.key, build(panel, lines, data, w, box))
    },
    resize() {
      for (const c of charts.values()) {
        const box = win.document.getElementById(`chart-${c.key}`)?.querySelector('.plot')
        if (box) c.plot.setSize({ width: widthOf(box), height: heightOf() })
      }
    },
    destroy() {
      for (const c of charts.values()) c.plot.destroy()
      charts.clear()
    },
  }
}
