import { closeSync, openSync, readSync, statSync } from 'node:fs'
import { listAlerts } from './_prom-api.js'

// Polls Prometheus's /api/v1/alerts and reports each change of an alert's state (pending, firing,
// resolved = gone from the list), and each new line of the file sink (notifications.log).

export type AlertState = 'pending' | 'firing' | 'resolved'

export interface AlertChange {
  alert: string
  state: AlertState
  /** ms since the watch started. */
  atMs: number
  value: string | undefined
}

export interface AlertTimeline {
  /** First time each alert fired and the first time it resolved after that. */
  firedAtMs: Map<string, number>
  resolvedAtMs: Map<string, number>
  notifications: { status: string; title: string; atMs: number }[]
}

export interface AlertWatch {
  timeline: AlertTimeline
  /** Current state of every alert seen (absent = never active or resolved). */
  state(alert: string): AlertState | undefined
  /** Resolves when `test` holds after a poll (or the signal aborts). */
  until(test: () => boolean, signal: AbortSignal, timeoutMs: number): Promise<boolean>
  close(): void
}

export function watchAlerts(options: {
  prometheusUrl: string
  notificationsFile?: string
  intervalMs: number
  fetch?: typeof globalThis.fetch
  onChange: (c: AlertChange) => void
  onNotification?: (n: { status: string; title: string }) => void
}): AlertWatch {
  const doFetch = options.fetch ?? globalThis.fetch
  const t0 = Date.now()
  const states = new Map<string, AlertState>()
  const timeline: AlertTimeline = {
    firedAtMs: new Map(),
    resolvedAtMs: new Map(),
    notifications: [],
  }
  const waiters = new Set<() => void>()
  let offset = options.notificationsFile ? sizeOf(options.notificationsFile) : 0
  let closed = false
  let timer: NodeJS.Timeout | undefined

  const poll = async () => {
    try {
      const alerts = await listAlerts(options.prometheusUrl, doFetch)
      const now = new Map<string, { state: AlertState; value: string | undefined }>()
      for (const a of alerts) {
        const name = a.labels.alertname ?? '?'
        const state: AlertState = a.state === 'firing' ? 'firing' : 'pending'
        const prev = now.get(name)
        if (!prev || (state === 'firing' && prev.state !== 'firing'))
          now.set(name, { state, value: a.value })
      }
      const atMs = Date.now() - t0
      for (const [name, { state, value }] of now) {
        if (states.get(name) === state) continue
        states.set(name, state)
        if (state === 'firing' && !timeline.firedAtMs.has(name)) timeline.firedAtMs.set(name, atMs)
        options.onChange({ alert: name, state, atMs, value })
      }
      for (const [name, state] of states) {
        if (now.has(name) || state === 'resolved') continue
        states.set(name, 'resolved')
        if (timeline.firedAtMs.has(name) && !timeline.resolvedAtMs.has(name))
          timeline.resolvedAtMs.set(name, atMs)
        options.onChange({ alert: name, state: 'resolved', atMs, value: undefined })
      }
    } catch {}
    if (options.notificationsFile) readNotifications(options.notificationsFile)
    for (const w of waiters) w()
    if (!closed) timer = setTimeout(poll, options.intervalMs)
  }

  const readNotifications = (file: string) => {
    const size = sizeOf(file)
    if (size <= offset) return
    const buf = Buffer.alloc(size - offset)
    try {
      const fd = openSync(file, 'r')
      readSync(fd, buf, 0, buf.length, offset)
      closeSync(fd)
    } catch {
      return
    }
    const text = buf.toString('utf8')
    const end = text.lastIndexOf('\n')
    if (end < 0) return
    offset += Buffer.byteLength(text.slice(0, end + 1))
    for (const line of text.slice(0, end).split('\n')) {
      try {
        const v = JSON.parse(line) as { status?: unknown; title?: unknown }
        const n = { status: String(v.status ?? '?'), title: String(v.title ?? '') }
        timeline.notifications.push({ ...n, atMs: Date.now() - t0 })
        options.onNotification?.(n)
      } catch {}
    }
  }

  void poll()
  return {
    timeline,
    state: (alert) => states.get(alert),
    until(test, signal, timeoutMs) {
      return new Promise((resolve) => {
        const deadline = Date.now() + timeoutMs
        const check = () => {
          if (test()) finish(true)
          else if (signal.aborted || Date.now() > deadline || closed) finish(false)
        }
        const finish = (ok: boolean) => {
          waiters.delete(check)
          signal.removeEventListener('abort', check)
          resolve(ok)
        }
        waiters.add(check)
        signal.addEventListener('abort', check, { once: true })
        check()
      })
    },
    close() {
      closed = true
      if (timer) clearTimeout(timer)
      for (const w of waiters) w()
    },
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size
  } catch {
    return 0
  }
}
