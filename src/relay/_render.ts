import type { Dialect, Severity } from './_dialects.js'
import type { Labels, Notification, RelayAlert } from './_payload.js'
import {
  clip,
  formatDuration,
  formatTime,
  type Language,
  renderTemplate,
  type TemplateVars,
} from './_text.js'

// One notification -> a title, a header block and one block per alert, in a dialect. Channels
// pack the blocks into messages (./_pack.ts) so a split never cuts an alert in two.

export interface RenderOptions {
  language: Language
  timeZone: string
  now: Date
  dashboardUrl?: string | undefined
  template?: { title?: string | undefined; alert?: string | undefined } | undefined
  keywords?: readonly string[] | undefined
}

export interface RenderedNotification {
  /** Plain one-line title (DingTalk markdown title, Feishu card header, Slack fallback). */
  title: string
  severity: Severity
  status: 'firing' | 'resolved'
  /** Header block; `continued` on the second and later messages of a split. */
  header(continued: boolean): string
  sections: string[]
}

const T = {
  zh: {
    firing: '告警中',
    resolved: '已恢复',
    continued: '（续）',
    sev: { critical: '严重', warning: '警告', info: '提示', none: '未分级' },
    group: '分组',
    receiver: '接收者',
    truncated: (n: number) => `另有 ${n} 条告警被 Alertmanager max_alerts 截断`,
    dropped: (n: number) => `另有 ${n} 条告警无法读取（不是 JSON 对象），已略过`,
    summary: '摘要',
    description: '详情',
    value: '当前值',
    labels: '标签',
    started: '开始',
    ended: '恢复',
    lasting: '已持续',
    lasted: '持续',
    links: '链接',
    source: '来源',
    silence: '静默',
    dashboard: '看板',
    runbook: '处理手册',
    marker: '\n…（内容过长，已截断）',
  },
  en: {
    firing: 'FIRING',
    resolved: 'RESOLVED',
    continued: ' (continued)',
    sev: { critical: 'critical', warning: 'warning', info: 'info', none: 'no severity' },
    group: 'Group',
    receiver: 'Receiver',
    truncated: (n: number) => `${n} more alert(s) cut by Alertmanager max_alerts`,
    dropped: (n: number) => `${n} more alert(s) could not be read (not a JSON object), skipped`,
    summary: 'Summary',
    description: 'Description',
    value: 'Value',
    labels: 'Labels',
    started: 'Started',
    ended: 'Resolved',
    lasting: 'for',
    lasted: 'lasted',
    links: 'Links',
    source: 'Source',
    silence: 'Silence',
    dashboard: 'Dashboard',
    runbook: 'Runbook',
    marker: '\n… (too long, truncated)',
  },
} as const

export function truncationMarker(lang: Language): string {
  return T[lang].marker
}

const HIDDEN = new Set(['alertname', 'severity'])
const ORDER: Severity[] = ['critical', 'warning', 'info', 'none']

export function severityOf(labels: Labels): Severity {
  const s = (labels.severity ?? labels.level ?? '').toLowerCase()
  if (['critical', 'error', 'page', 'p0', 'p1', 'high', 'disaster'].includes(s)) return 'critical'
  if (['warning', 'warn', 'ticket', 'p2', 'medium', 'average'].includes(s)) return 'warning'
  if (['info', 'information', 'low', 'p3', 'notice'].includes(s)) return 'info'
  return 'none'
}

export function renderNotification(
  n: Notification,
  d: Dialect,
  o: RenderOptions,
): RenderedNotification {
  const t = T[o.language]
  const firing = n.alerts.filter((a) => a.status === 'firing')
  const resolved = n.alerts.length - firing.length
  const relevant = firing.length ? firing : n.alerts
  const severity = ORDER.find((s) => relevant.some((a) => severityOf(a.labels) === s)) ?? 'none'
  const names = [...new Set(n.alerts.map((a) => a.labels.alertname ?? ''))].filter(Boolean)
  const alertname = n.groupLabels.alertname ?? n.commonLabels.alertname ?? names[0] ?? 'alert'
  const counts = firing.length
    ? `${t.firing}:${firing.length}${resolved ? `, ${t.resolved}:${resolved}` : ''}`
    : `${t.resolved}:${resolved}`
  const more = names.length > 1 ? ` +${names.length - 1}` : ''
  let title = `[${counts}] ${t.sev[severity]} · ${alertname}${more}`
  if (o.template?.title)
    title = renderTemplate(o.template.title, groupVars(n, o, alertname, severity))
  title = clip(title.replace(/\s+/g, ' ').trim(), 200)
  if (o.keywords?.length && !o.keywords.some((k) => title.includes(k)))
    title = `${title} ${o.keywords[0]}`

  const icon = firing.length ? (severity === 'critical' ? '🔴' : '🟠') : '✅'
  const common = Object.entries(n.commonLabels)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')
  const header = (continued: boolean) => {
    const lines = [
      d.heading(d.severity(severity, `${icon} ${d.esc(title)}${continued ? t.continued : ''}`)),
    ]
    if (!continued) {
      if (common) lines.push(d.item(t.group, d.esc(clip(common, 600))))
      if (n.receiver) lines.push(d.item(t.receiver, d.esc(n.receiver)))
      if (n.truncatedAlerts) lines.push(d.item('⚠️', t.truncated(n.truncatedAlerts)))
      if (n.dropped.length) lines.push(d.item('⚠️', t.dropped(n.dropped.length)))
    }
    return lines.join(d.lineSep)
  }
  const sections = n.alerts.map((a) =>
    o.template?.alert
      ? renderTemplate(o.template.alert, alertVars(a, n, o))
      : renderAlert(a, n, d, o),
  )
  return { title, severity, status: n.status, header, sections }
}

function renderAlert(a: RelayAlert, n: Notification, d: Dialect, o: RenderOptions): string {
  const t = T[o.language]
  const sev = severityOf(a.labels)
  const icon = a.status === 'firing' ? (sev === 'critical' ? '🔴' : '🟠') : '✅'
  const state = a.status === 'firing' ? t.firing : t.resolved
  const lines = [
    d.bold(
      d.severity(sev, `${icon} ${state} · ${t.sev[sev]} · ${d.esc(a.labels.alertname ?? 'alert')}`),
    ),
  ]
  const summary = a.annotations.summary ?? a.annotations.title ?? a.annotations.message
  if (summary) lines.push(d.item(t.summary, d.esc(summary)))
  const description = a.annotations.description
  if (description && description !== summary) lines.push(d.item(t.description, d.esc(description)))
  const value = a.annotations.value ?? a.valueString
  if (value) lines.push(d.item(t.value, d.esc(value)))
  const labels = Object.entries(a.labels)
    .filter(([k, v]) => !HIDDEN.has(k) && n.commonLabels[k] !== v)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')
  if (labels) lines.push(d.item(t.labels, d.esc(labels)))
  if (a.startsAt) {
    const endMs = a.status === 'resolved' && a.endsAt ? a.endsAt.getTime() : o.now.getTime()
    const dur = formatDuration(endMs - a.startsAt.getTime(), o.language)
    lines.push(
      d.item(
        t.started,
        `${formatTime(a.startsAt, o.timeZone)} (${a.status === 'resolved' ? t.lasted : t.lasting} ${dur})`,
      ),
    )
  }
  if (a.status === 'resolved' && a.endsAt)
    lines.push(d.item(t.ended, formatTime(a.endsAt, o.timeZone)))
  const links = linksOf(a, n, o)
    .map(([k, u]) => d.link(t[k], u))
    .join(d.linkSep)
  if (links) lines.push(d.linkSep === '\n' ? `${t.links}:\n${links}` : d.item(t.links, links))
  return lines.join(d.lineSep)
}

type LinkKind = 'source' | 'silence' | 'dashboard' | 'runbook'

export function linksOf(a: RelayAlert, n: Notification, o: RenderOptions): [LinkKind, string][] {
  const out: [LinkKind, string][] = []
  if (a.generatorURL) out.push(['source', a.generatorURL])
  const silence = a.silenceURL ?? silenceUrl(a.labels, n.externalURL)
  if (a.status === 'firing' && silence) out.push(['silence', silence])
  const dash = a.dashboardURL ?? a.panelURL ?? a.annotations.dashboard_url ?? o.dashboardUrl
  if (dash && /^https?:\/\//.test(dash)) out.push(['dashboard', dash])
  const runbook =
    a.annotations.runbook_url ?? a.annotations.runbook ?? n.commonAnnotations.runbook_url
  if (runbook && /^https?:\/\//.test(runbook)) out.push(['runbook', runbook])
  return out
}

/** Alertmanager UI's "new silence" form, pre-filled with the alert's labels. */
export function silenceUrl(labels: Labels, externalURL: string | undefined): string | undefined {
  if (!externalURL || Object.keys(labels).length === 0) return undefined
  const matchers = Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',')
  return `${externalURL.replace(/\/+$/, '')}/#/silences/new?filter=${encodeURIComponent(wellFormed(`{${matchers}}`))}`
}

/** encodeURIComponent throws URIError on a lone surrogate (a label value JSON can carry as
 * "\ud800"): each becomes U+FFFD, as a UTF-8 decoder would render it. */
function wellFormed(s: string): string {
  return s.replace(/\p{Cs}/gu, '\uFFFD')
}

function groupVars(
  n: Notification,
  o: RenderOptions,
  alertname: string,
  severity: Severity,
): TemplateVars {
  const firing = n.alerts.filter((a) => a.status === 'firing').length
  return {
    status: n.status,
    alertname,
    severity,
    receiver: n.receiver,
    count: String(n.alerts.length),
    firingCount: String(firing),
    resolvedCount: String(n.alerts.length - firing),
    externalURL: n.externalURL ?? '',
    groupLabels: n.groupLabels,
    commonLabels: n.commonLabels,
    commonAnnotations: n.commonAnnotations,
    language: o.language,
  }
}

export function alertVars(a: RelayAlert, n: Notification, o: RenderOptions): TemplateVars {
  const links = Object.fromEntries(linksOf(a, n, o))
  const endMs = a.status === 'resolved' && a.endsAt ? a.endsAt.getTime() : o.now.getTime()
  return {
    status: a.status,
    alertname: a.labels.alertname ?? '',
    severity: severityOf(a.labels),
    summary: a.annotations.summary ?? '',
    description: a.annotations.description ?? '',
    value: a.annotations.value ?? a.valueString ?? '',
    startsAt: a.startsAt ? formatTime(a.startsAt, o.timeZone) : '',
    endsAt: a.endsAt ? formatTime(a.endsAt, o.timeZone) : '',
    duration: a.startsAt ? formatDuration(endMs - a.startsAt.getTime(), o.language) : '',
    fingerprint: a.fingerprint,
    generatorURL: a.generatorURL ?? '',
    silenceURL: links.silence ?? '',
    dashboardURL: links.dashboard ?? '',
    runbookURL: links.runbook ?? '',
    labels: a.labels,
    annotations: a.annotations,
    receiver: n.receiver,
  }
}
