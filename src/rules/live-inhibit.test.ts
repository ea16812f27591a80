import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseConfig } from '../config/index.js'
import { startAlertmanager, waitUntil } from '../testing/prom-stack.js'
import { planRules, renderAlertmanagerConfig } from './index.js'

// The generated inhibit rules on Alertmanager 0.25 itself: alerts posted to its API (as Prometheus
// does) and read back with their status. A down engine mutes its own warnings only; the healthy
// replica's warning still goes out. A critical LLMErrorBudgetBurn mutes the warning one with the
// same labels.

interface AmAlert {
  labels: Record<string, string>
  inhibited: boolean
}

function parseAlerts(body: unknown): AmAlert[] {
  if (!Array.isArray(body)) throw new Error(`unexpected /api/v2/alerts body: ${String(body)}`)
  return body.map((a: unknown) => {
    const rec = typeof a === 'object' && a !== null ? (a as Record<string, unknown>) : {}
    const labels: Record<string, string> = {}
    if (typeof rec.labels === 'object' && rec.labels !== null) {
      for (const [k, v] of Object.entries(rec.labels)) if (typeof v === 'string') labels[k] = v
    }
    const status =
      typeof rec.status === 'object' && rec.status !== null
        ? (rec.status as Record<string, unknown>)
        : {}
    const by = status.inhibitedBy
    return { labels, inhibited: Array.isArray(by) && by.length > 0 }
  })
}

test('live: alertmanager.yml inhibits warnings of the down engine only, and warning under critical', async (t) => {
  const plan = planRules(parseConfig({ alerts: { profile: 'test' } }))
  const am = await startAlertmanager({ configYaml: renderAlertmanagerConfig(plan) })
  t.after(() => am.close())
  const alert = (alertname: string, severity: string, instance: string) => ({
    labels: { alertname, severity, instance, job: 'vllm', engine: 'vllm', model: 'qwen3-4b' },
  })
  const posted = [
    alert('LLMEngineDown', 'critical', 'gpu-a:8000'),
    alert('LLMKVCacheHigh', 'warning', 'gpu-a:8000'),
    alert('LLMKVCacheHigh', 'warning', 'gpu-b:8000'),
    alert('LLMErrorBudgetBurn', 'critical', 'proxy-c:9464'),
    alert('LLMErrorBudgetBurn', 'warning', 'proxy-c:9464'),
    alert('LLMErrorBudgetBurn', 'warning', 'proxy-d:9464'),
  ]
  const res = await fetch(`${am.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(posted),
    signal: AbortSignal.timeout(5000),
  })
  assert.equal(res.status, 200, await res.text())
  const key = (a: AmAlert) => `${a.labels.alertname} ${a.labels.severity} ${a.labels.instance}`
  const alerts = await waitUntil('all posted alerts listed', async () => {
    const r = await fetch(`${am.url}/api/v2/alerts`, { signal: AbortSignal.timeout(5000) })
    const list = parseAlerts(await r.json())
    return list.length === posted.length ? list : undefined
  })
  const inhibited = alerts
    .filter((a) => a.inhibited)
    .map(key)
    .sort()
  assert.deepEqual(inhibited, [
    'LLMErrorBudgetBurn warning proxy-c:9464',
    'LLMKVCacheHigh warning gpu-a:8000',
  ])
})
