import type { Alert, SeriesData, Tile } from './api.js'
import { byId, el } from './dom.js'
import { formatAxis, formatValue } from './format.js'
import type { Strings } from './i18n.js'

// Tiles and the alert list. Label values and alert text are set as text, never parsed as HTML.

type State = 'none' | 'ok' | 'near' | 'over'

// A sum over llm:requests:rate1m counts each request once: the rules drop an engine's own
// series for the models the proxy in front of it serves (README: Prometheus rules and alerts).
function aggregate(series: readonly SeriesData[], agg: 'sum' | 'max'): number | undefined {
  const values = series.map((s) => Number(s.value?.[1])).filter((v) => Number.isFinite(v))
  if (values.length === 0) return undefined
  return agg === 'sum' ? values.reduce((a, b) => a + b, 0) : Math.max(...values)
}

/** The alerts' comparisons: backlog is running + waiting ≥ threshold, the others are above it. */
function stateOf(tile: Tile, total: number | undefined): State {
  if (total === undefined) return 'none'
  const t = tile.alert?.threshold
  if (t === undefined) return 'none'
  const over = tile.key === 'backlog' ? total >= t : total > t
  if (over) return 'over'
  return total >= 0.8 * t ? 'near' : 'ok'
}

export function renderTile(
  tile: Tile,
  results: (readonly SeriesData[] | undefined)[],
  s: Strings,
  localOnly: boolean,
): void {
  const box = byId(`tile-${tile.key}`)
  const parts = results.map((r) => (r ? aggregate(r, tile.agg) : undefined))
  const known = parts.filter((v): v is number => v !== undefined)
  const total = known.length ? known.reduce((a, b) => a + b, 0) : undefined
  const state = stateOf(tile, total)
  box.dataset.state = state
  const value = box.querySelector('.value')
  const note = box.querySelector('.note')
  if (value) {
    // The tile's title names the unit of a rate ("Requests/s"): the number stands alone.
    const show = (v: number | undefined) =>
      tile.unit === 'reqps' && v !== undefined
        ? formatAxis(v, tile.unit)
        : formatValue(v, tile.unit)
    value.textContent =
      tile.key === 'backlog' && known.length ? parts.map(show).join(' / ') : show(total)
  }
  if (!note) return
  if (total === undefined) {
    note.textContent = localOnly ? s.needsPrometheus : s.noData
    return
  }
  const words = { none: '', ok: s.stateOk, near: s.stateNear, over: s.stateOver }[state]
  note.textContent = tile.alert
    ? `${words} · ${s.threshold} ${formatValue(tile.alert.threshold, tile.unit)}`
    : ''
}

function safeLink(href: string | undefined): string | undefined {
  if (!href) return undefined
  try {
    const u = new URL(href)
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : undefined
  } catch {
    return undefined
  }
}

export function renderAlerts(alerts: readonly Alert[] | undefined, s: Strings): void {
  const list = byId('alert-list')
  if (alerts === undefined) {
    list.replaceChildren(el('li', { class: 'quiet' }, s.alertsUnavailable))
    return
  }
  if (alerts.length === 0) {
    list.replaceChildren(el('li', { class: 'quiet' }, s.noAlerts))
    return
  }
  const rank = (a: Alert) =>
    (a.state === 'firing' ? 0 : 2) + (a.labels.severity === 'critical' ? 0 : 1)
  const items = [...alerts]
    .sort((a, b) => rank(a) - rank(b))
    .map((a) => {
      const where = ['instance', 'model', 'gpu']
        .map((k) => (a.labels[k] ? `${k}=${a.labels[k]}` : ''))
        .filter(Boolean)
        .join(' ')
      const since = a.activeAt ? new Date(a.activeAt).toLocaleTimeString() : ''
      const meta = [
        a.labels.severity ?? '',
        a.state === 'firing' ? s.firing : s.pending,
        since ? `${s.since} ${since}` : '',
        where,
      ]
        .filter(Boolean)
        .join(' · ')
      const link = safeLink(a.annotations.runbook_url)
      const desc = el(
        'p',
        { class: 'alert-desc' },
        el('span', {}, a.annotations.summary ?? a.annotations.description ?? ''),
      )
      if (link) desc.append(el('a', { href: link, rel: 'noopener noreferrer' }, s.runbook))
      return el(
        'li',
        { 'data-severity': a.labels.severity ?? 'none', 'data-state': a.state },
        el('span', { class: 'alert-name' }, a.labels.alertname ?? '?'),
        el('span', { class: 'alert-meta' }, meta),
        desc,
      )
    })
  list.replaceChildren(...items)
}
