import { createHash } from 'node:crypto'
import { AppError } from '../shared/index.js'

// Alertmanager webhook payloads, parsed leniently (format:
// https://prometheus.io/docs/alerting/latest/configuration/#webhook_config):
// version "4", "3", numeric 0, numeric groupKey (even > 2^64), missing truncatedAlerts /
// fingerprint / per-alert status, empty or non-URL generatorURL, and Grafana's superset
// (silenceURL, dashboardURL, values...). Only `alerts[].labels` is required in spirit; an alert
// without labels still renders.

export type AlertStatus = 'firing' | 'resolved'
export type Labels = Readonly<Record<string, string>>

export interface RelayAlert {
  status: AlertStatus
  labels: Labels
  annotations: Labels
  startsAt: Date | undefined
  /** undefined for Go's zero time (firing alerts) and unparsable values. */
  endsAt: Date | undefined
  /** Only http(s) URLs; fixtures carry "", "critical" and "#..." fragments. */
  generatorURL: string | undefined
  /** From the payload, or derived from the labels when absent or empty. */
  fingerprint: string
  silenceURL: string | undefined
  dashboardURL: string | undefined
  panelURL: string | undefined
  valueString: string | undefined
}

export interface Notification {
  version: string
  groupKey: string
  status: AlertStatus
  /** Alertmanager QuoteMeta-escapes it ("llm\\.pager"); unescaped here. */
  receiver: string
  groupLabels: Labels
  commonLabels: Labels
  commonAnnotations: Labels
  externalURL: string | undefined
  truncatedAlerts: number
  /** Why entries of `alerts` that are not objects were dropped ("alerts[2] is not an object"). */
  dropped: readonly string[]
  alerts: readonly RelayAlert[]
  /** The body as received, for the generic webhook's pass-through. */
  rawBody: string
}

/** Parses a webhook body. Throws RELAY_PAYLOAD_INVALID for bodies that can never succeed. */
export function parseAlertmanagerPayload(body: string, now: Date = new Date()): Notification {
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch (cause) {
    throw invalid(`body is not JSON: ${(cause as Error).message}`, cause)
  }
  if (!isRecord(value)) throw invalid('body is not a JSON object')
  const rawAlerts = value.alerts
  if (!Array.isArray(rawAlerts) || rawAlerts.length === 0) {
    throw invalid('body has no "alerts" array with at least one alert')
  }
  const top = value.status === 'resolved' ? 'resolved' : 'firing'
  // What can be read is rendered; the rest is named in the message and the hook's reply.
  const alerts: RelayAlert[] = []
  const dropped: string[] = []
  rawAlerts.forEach((a, i) => {
    if (isRecord(a)) alerts.push(parseAlert(a, top, now))
    else dropped.push(`alerts[${i}] is not an object`)
  })
  if (alerts.length === 0) throw invalid(`body has no readable alert (${dropped[0]})`)
  const status: AlertStatus = alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved'
  const commonLabels = toLabels(value.commonLabels)
  return {
    version: scalarString(value.version) ?? '',
    groupKey: scalarString(value.groupKey) ?? '',
    status,
    receiver: (scalarString(value.receiver) ?? '').replace(/\\(.)/g, '$1'),
    groupLabels: toLabels(value.groupLabels),
    commonLabels,
    commonAnnotations: toLabels(value.commonAnnotations),
    externalURL: httpUrl(value.externalURL),
    truncatedAlerts: nonNegativeInt(value.truncatedAlerts),
    dropped,
    alerts,
    rawBody: body,
  }
}

function parseAlert(raw: Record<string, unknown>, top: AlertStatus, now: Date): RelayAlert {
  const labels = toLabels(raw.labels)
  const endsAt = parseTime(raw.endsAt)
  let status: AlertStatus
  if (raw.status === 'firing' || raw.status === 'resolved') status = raw.status
  else if (endsAt && endsAt.getTime() <= now.getTime()) status = 'resolved'
  else status = top
  const fp = scalarString(raw.fingerprint)
  return {
    status,
    labels,
    annotations: toLabels(raw.annotations),
    startsAt: parseTime(raw.startsAt),
    endsAt,
    generatorURL: httpUrl(raw.generatorURL),
    fingerprint: fp || fingerprintLabels(labels),
    silenceURL: httpUrl(raw.silenceURL),
    dashboardURL: httpUrl(raw.dashboardURL),
    panelURL: httpUrl(raw.panelURL),
    valueString: scalarString(raw.valueString) || undefined,
  }
}

/** A stable stand-in for Alertmanager's fingerprint: sha256 of the sorted label pairs. */
export function fingerprintLabels(labels: Labels): string {
  const h = createHash('sha256')
  for (const k of Object.keys(labels).sort()) h.update(`${k}\u0000${labels[k]}\u0000`)
  return h.digest('hex').slice(0, 16)
}

function parseTime(v: unknown): Date | undefined {
  if (typeof v !== 'string' || v === '' || v.startsWith('0001-01-01')) return undefined
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? undefined : d
}

function httpUrl(v: unknown): string | undefined {
  if (typeof v !== 'string' || !/^https?:\/\//i.test(v)) return undefined
  try {
    new URL(v)
    return v
  } catch {
    return undefined
  }
}

function toLabels(v: unknown): Labels {
  if (!isRecord(v)) return {}
  const out: Record<string, string> = {}
  for (const [k, val] of Object.entries(v)) {
    const s = scalarString(val)
    if (s !== undefined) out[k] = s
  }
  return out
}

function scalarString(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return undefined
}

function nonNegativeInt(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : 0
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function invalid(message: string, cause?: unknown): AppError {
  return new AppError('RELAY_PAYLOAD_INVALID', message, {
    cause,
    hint: 'POST an Alertmanager webhook body (webhook_configs) to /hooks/alertmanager',
  })
}
