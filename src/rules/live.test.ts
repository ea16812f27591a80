import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { test } from 'node:test'
import { parseConfig } from '../config/index.js'
import { closeServer, listenLocal } from '../testing/index.js'
import {
  listPrometheusAlerts,
  queryPrometheus,
  startHookReceiver,
  waitUntil,
} from '../testing/prom-stack.js'
import { startRulesStack } from '../testing/rules-stack.js'
import { renderRecordingRules } from './index.js'

// Live, with Debian's Prometheus 2.42 and Alertmanager 0.25 (test profile: 1 s scrape and
// evaluation, 2 s `for`, 1 s Alertmanager grouping): a GPU above 92 % goes pending, fires, reaches
// the webhook; dropping it sends the resolved notification; reloading regenerated rules keeps data.

function gpuText(usedBytes: number): string {
  const l = 'gpu="0",hw_id="GPU-live",hw_name="NVIDIA GeForce RTX 4090 D"'
  return [
    '# TYPE hw_gpu_memory_usage_bytes gauge',
    `hw_gpu_memory_usage_bytes{${l}} ${usedBytes}`,
    '# TYPE hw_gpu_memory_limit_bytes gauge',
    `hw_gpu_memory_limit_bytes{${l}} 24000000000`,
    '# TYPE inferwatch_gpu_collector_up gauge',
    'inferwatch_gpu_collector_up 1',
    '',
  ].join('\n')
}

test('live: GPU memory > 92% -> pending -> firing -> webhook -> resolved; /-/reload keeps data', async (t) => {
  let used = 0.5 * 24e9
  const target = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(gpuText(used))
  })
  const targetUrl = await listenLocal(target)
  t.after(() => closeServer(target))
  const hook = await startHookReceiver()
  t.after(() => hook.close())

  const base = {
    upstream: targetUrl,
    admin: new URL(targetUrl).host,
    gpuMemoryUtilization: 0.85,
    alerts: { profile: 'test', language: 'en' },
  }
  const stack = await startRulesStack(base, `${hook.url}/hooks/alertmanager`)
  t.after(() => stack.close())
  const { am, prom } = stack

  // Below the threshold: recorded, not alerting.
  await waitUntil('llm:gpu_memory_usage:ratio = 0.5', async () => {
    const s = await queryPrometheus(prom.url, 'llm:gpu_memory_usage:ratio')
    return s[0]?.value === 0.5 ? s : undefined
  })
  assert.deepEqual(
    (await listPrometheusAlerts(prom.url)).filter((a) => a.labels.alertname === 'LLMGPUMemoryHigh'),
    [],
  )

  used = 0.95 * 24e9
  const firing = await waitUntil('LLMGPUMemoryHigh firing', async () => {
    const a = (await listPrometheusAlerts(prom.url)).find(
      (x) => x.labels.alertname === 'LLMGPUMemoryHigh',
    )
    return a?.state === 'firing' ? a : undefined
  })
  assert.equal(firing.labels.severity, 'critical')
  assert.equal(firing.labels.hw_id, 'GPU-live')
  // It was pending first: Prometheus records ALERTS{alertstate="pending"} while `for` runs.
  const pending = await queryPrometheus(
    prom.url,
    'max_over_time(ALERTS{alertname="LLMGPUMemoryHigh",alertstate="pending"}[5m])',
  )
  assert.equal(pending[0]?.value, 1)

  const notified = await waitUntil('firing webhook', async () =>
    hook.bodies.find(
      (b) =>
        b.status === 'firing' && b.alerts.some((a) => a.labels.alertname === 'LLMGPUMemoryHigh'),
    ),
  )
  const alert = notified.alerts.find((a) => a.labels.alertname === 'LLMGPUMemoryHigh')
  assert.equal(alert?.labels.gpu, '0')
  assert.equal(alert?.annotations.summary, 'GPU memory usage high: 95% (threshold 92%)')
  assert.match(alert?.annotations.runbook_url ?? '', /#llmgpumemoryhigh$/)

  used = 0.6 * 24e9
  const resolved = await waitUntil('resolved webhook', async () =>
    hook.bodies.find(
      (b) =>
        b.status === 'resolved' && b.alerts.some((a) => a.labels.alertname === 'LLMGPUMemoryHigh'),
    ),
  )
  assert.equal(
    resolved.alerts.find((a) => a.labels.alertname === 'LLMGPUMemoryHigh')?.status,
    'resolved',
  )

  // Regenerate with another threshold and reload in place: the new rule is live, the data stays.
  const before = await queryPrometheus(prom.url, 'count_over_time(hw_gpu_memory_usage_bytes[10m])')
  const stricter = parseConfig({
    ...base,
    alertmanager: { url: am.url },
    alerts: { ...base.alerts, gpuMemoryHigh: { ratio: 0.55 } },
  })
  prom.writeFiles({ 'rules/inferwatch.rules.yml': renderRecordingRules(stricter) })
  await prom.reload()
  await waitUntil('LLMGPUMemoryHigh firing at the new 55% threshold', async () => {
    const a = (await listPrometheusAlerts(prom.url)).find(
      (x) => x.labels.alertname === 'LLMGPUMemoryHigh',
    )
    return a?.state === 'firing' ? a : undefined
  })
  const after = await queryPrometheus(prom.url, 'count_over_time(hw_gpu_memory_usage_bytes[10m])')
  assert.ok(
    (after[0]?.value ?? 0) >= (before[0]?.value ?? Number.POSITIVE_INFINITY),
    'samples lost on reload',
  )
  const history = await queryPrometheus(prom.url, 'max_over_time(llm:gpu_memory_usage:ratio[10m])')
  assert.equal(history[0]?.value, 0.95)
})
