import {
  type Alert,
  loadAlerts,
  loadSpec,
  queryInstant,
  queryRange,
  type Reply,
  type SeriesData,
  type Source,
  type Spec,
} from './api.js'
import { createCharts, type Window } from './charts.js'
import { byId, doc, el, win } from './dom.js'
import { type Lang, STRINGS } from './i18n.js'
import { renderAlerts, renderTile } from './tiles.js'

// The dashboard page: loads the panel list from /api/dashboard, then refreshes tiles, alerts
// and charts every refreshSeconds. Every query goes through the admin server's allow-list.

const lang: Lang = doc.body.dataset.lang === 'zh' ? 'zh' : 'en'
const s = STRINGS[lang]
let rangeSeconds = 900
let charts = createCharts(s)
let timer: ReturnType<typeof setTimeout> | undefined

function showSource(source: Source, spec: Spec, error?: string): void {
  const box = byId('source')
  box.dataset.source = source
  if (source === 'local') {
    box.replaceChildren(
      el('strong', {}, 'in-memory'),
      `${s.sourceLocal} ${spec.prometheusUrl}. ${s.sourceLocalHint}`,
    )
  } else if (source === 'error') {
    box.replaceChildren(el('strong', {}, s.sourceError), error ?? '')
  } else {
    box.replaceChildren(`${s.sourcePrometheus}: ${spec.prometheusUrl}`)
  }
}

/** One request per distinct expression, shared by the tiles or by the charts. */
async function fetchAll<T>(
  exprs: readonly string[],
  get: (expr: string) => Promise<Reply<T>>,
): Promise<{ byExpr: Map<string, T | undefined>; source: Source; error?: string }> {
  const unique = [...new Set(exprs)]
  const replies = await Promise.allSettled(unique.map(get))
  const byExpr = new Map<string, T | undefined>()
  let source: Source = 'prometheus'
  let error: string | undefined
  replies.forEach((r, i) => {
    const expr = unique[i] ?? ''
    if (r.status === 'fulfilled') {
      byExpr.set(expr, r.value.data)
      if (r.value.source === 'local') source = 'local'
    } else {
      byExpr.set(expr, undefined)
      error = r.reason instanceof Error ? r.reason.message : String(r.reason)
    }
  })
  if (error && byExpr.size > 0 && [...byExpr.values()].every((v) => v === undefined))
    source = 'error'
  return error ? { byExpr, source, error } : { byExpr, source }
}

function windowNow(): Window {
  const step = Math.max(5, Math.round(rangeSeconds / 240))
  const end = Math.floor(Date.now() / 1000)
  return { start: end - rangeSeconds, end, step }
}

async function refresh(spec: Spec): Promise<void> {
  const w = windowNow()
  const rangeExprs = spec.panels.flatMap((p) => p.targets.map((t) => t.expr))
  const tileExprs = spec.tiles.flatMap((t) => t.exprs)
  const [tiles, ranges, alerts] = await Promise.all([
    fetchAll(tileExprs, queryInstant),
    fetchAll(rangeExprs, (e) => queryRange(e, w.start, w.end, w.step)),
    loadAlerts().then(
      (r): Reply<{ alerts: Alert[] }> | undefined => r,
      () => undefined,
    ),
  ])
  const source = tiles.source === 'error' ? ranges.source : tiles.source
  showSource(source, spec, tiles.error ?? ranges.error)
  const local = source === 'local'
  const localOnly = new Set(spec.localOnly)
  for (const tile of spec.tiles) {
    const results = tile.exprs.map((e) => tiles.byExpr.get(e)?.result as SeriesData[] | undefined)
    renderTile(tile, results, s, local && tile.exprs.every((e) => localOnly.has(e)))
  }
  renderAlerts(alerts && alerts.source !== 'local' ? alerts.data.alerts : undefined, s)
  for (const panel of spec.panels) {
    charts.update(
      panel,
      panel.targets.map((t) => ranges.byExpr.get(t.expr)?.result),
      w,
      local && panel.targets.every((t) => localOnly.has(t.expr)) ? s.needsPrometheus : s.noData,
    )
  }
  byId('updated').textContent = `${s.refreshed} ${new Date().toLocaleTimeString()}`
  doc.body.dataset.loaded = 'true'
}

function loop(spec: Spec): void {
  if (timer) clearTimeout(timer)
  refresh(spec)
    .catch((err: unknown) => showSource('error', spec, err instanceof Error ? err.message : ''))
    .finally(() => {
      timer = setTimeout(() => loop(spec), spec.refreshSeconds * 1000)
    })
}

function wireControls(spec: Spec): void {
  const buttons = [...Array.from(doc.querySelectorAll('.ranges button'))]
  for (const b of buttons) {
    b.addEventListener('click', () => {
      rangeSeconds = Number(b.dataset.range) || 900
      for (const other of buttons) other.setAttribute('aria-pressed', String(other === b))
      loop(spec)
    })
  }
  byId('lang').addEventListener('click', () => {
    const next = lang === 'zh' ? 'en' : 'zh'
    doc.cookie = `inferwatch_lang=${next}; Path=/; SameSite=Strict; Max-Age=31536000`
    win.location.replace('/')
  })
  let resizing: ReturnType<typeof setTimeout> | undefined
  win.addEventListener('resize', () => {
    if (resizing) clearTimeout(resizing)
    resizing = setTimeout(() => charts.resize(), 150)
  })
  // Light and dark: the palette is read from CSS, so rebuild the charts when the scheme changes.
  win.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    charts.destroy()
    charts = createCharts(s)
    doc.body.dataset.loaded = 'false'
    loop(spec)
  })
}

async function main(): Promise<void> {
  const { data: spec } = await loadSpec()
  wireControls(spec)
  loop(spec)
}

main().catch((err: unknown) => {
  const box = byId('source')
  box.dataset.source = 'error'
  box.replaceChildren(el('strong', {}, s.sourceError), err instanceof Error ? err.message : '')
})
