import type { DemoOutcome } from './_demo.js'

interface Timeline {
  firedAtMs: Map<string, number>
  resolvedAtMs: Map<string, number>
  notifications: { status: string; title: string }[]
}

const mmss = (ms: number | undefined) => {
  if (ms === undefined) return '-'
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

/** The table `up --demo` prints when its phases are done. */
export function renderDemoSummary(o: DemoOutcome, t: Timeline, notifications: string): string {
  const rows = o.expected.map((e) => [
    e.alert,
    mmss(t.firedAtMs.get(e.alert)),
    mmss(t.resolvedAtMs.get(e.alert)),
    e.fired && e.resolved
      ? 'fired and resolved'
      : e.fired
        ? 'fired, not resolved yet'
        : 'did NOT fire',
  ])
  const others = [...t.firedAtMs.keys()].filter((a) => !o.expected.some((e) => e.alert === a))
  for (const a of others)
    rows.push([a, mmss(t.firedAtMs.get(a)), mmss(t.resolvedAtMs.get(a)), 'also fired (a symptom)'])
  const head = ['alert', 'fired', 'resolved', '']
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)))
  const line = (r: string[]) => `  ${r.map((c, i) => c.padEnd(w[i] ?? 0)).join('  ')}`.trimEnd()
  const ok = o.expected.every((e) => e.fired && e.resolved)
  return [
    '',
    ok
      ? 'demo done: every alert fired and resolved'
      : 'demo done, but not every alert fired and resolved:',
    line(head),
    ...rows.map(line),
    ...(rows.some((r) => r[2] === '-' && r[3]?.startsWith('also'))
      ? [
          'the symptoms still firing are computed over 5-minute windows: they resolve within about 5 minutes of wall time (watch them here)',
        ]
      : []),
    `requests sent ${o.requests.sent}: ${o.requests.ok} answered, ${o.requests.cancelled} cancelled by the demo, ${o.requests.failed} failed; ${t.notifications.length} notifications in ${notifications}`,
    'the stack keeps running with steady chat: explore the URLs above; Ctrl-C stops everything',
    '',
  ].join('\n')
}
