import type { Notification, RelayAlert } from './_payload.js'
import type { RelayChannelConfig } from './_types.js'

// Routing by labels (severity, model, receiver). A channel gets only the alerts that match all its
// matchers; a notification with none left is not sent to it.

const MODEL_LABELS = ['model', 'model_name', 'gen_ai_request_model', 'served_model_name']

function valuesOf(key: string, a: RelayAlert, n: Notification): string[] {
  if (key === 'receiver') return [n.receiver]
  if (key === 'status') return [a.status]
  if (key === 'model')
    return MODEL_LABELS.map((k) => a.labels[k]).filter((v): v is string => v !== undefined)
  const v = a.labels[key]
  return [v ?? '']
}

/** Throws SyntaxError for a bad matchRe (checked when the hook is created). */
export function compileMatchers(
  cfg: RelayChannelConfig,
): (a: RelayAlert, n: Notification) => boolean {
  const exact = Object.entries(cfg.match ?? {}).map(
    ([k, v]) => [k, new Set(Array.isArray(v) ? v : [v])] as const,
  )
  const re = Object.entries(cfg.matchRe ?? {}).map(
    ([k, v]) => [k, new RegExp(`^(?:${v})$`)] as const,
  )
  return (a, n) =>
    exact.every(([k, set]) => valuesOf(k, a, n).some((v) => set.has(v))) &&
    re.every(([k, r]) => valuesOf(k, a, n).some((v) => r.test(v)))
}

export function routeNotification(
  n: Notification,
  cfg: RelayChannelConfig,
  matches: (a: RelayAlert, n: Notification) => boolean,
): Notification | undefined {
  const alerts = n.alerts.filter(
    (a) => (cfg.sendResolved || a.status === 'firing') && matches(a, n),
  )
  if (alerts.length === 0) return undefined
  if (alerts.length === n.alerts.length) return n
  const status = alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved'
  return { ...n, alerts, status }
}

/** Alertmanager delivers at least once
 * (https://github.com/prometheus/alertmanager/blob/main/docs/high_availability.md): the same group
 * state twice is a repeat. */
export function dedupeKey(n: Notification): string {
  const alerts = n.alerts
    .map((a) => `${a.fingerprint}:${a.status}:${a.startsAt?.toISOString() ?? ''}`)
    .sort()
    .join(',')
  return `${n.groupKey}|${n.receiver}|${n.status}|${alerts}`
}
