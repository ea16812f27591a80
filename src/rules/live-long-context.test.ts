import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseConfig } from '../config/index.js'
import { startProxyService } from '../server/index.js'
import { startScriptedEngine } from '../sim/index.js'
import {
  listPrometheusAlerts,
  queryPrometheus,
  startHookReceiver,
  waitUntil,
} from '../testing/prom-stack.js'
import { startRulesStack } from '../testing/rules-stack.js'

// The long-context alert (LLMLongContextOverload, README "Runbook"), made real: real
// requests through `inferwatch proxy` are tagged context_class="long" from the engine's reported
// prompt tokens; Prometheus 2.42 scrapes the admin /metrics, LLMLongContextOverload goes pending,
// fires, Alertmanager 0.25 posts it, and short traffic brings the share under 30 % -> resolved.

const MODEL = 'qwen3-4b-instruct-2507'

test('live: long-context share > 30% through the proxy fires and resolves', async (t) => {
  const engine = await startScriptedEngine({
    servedModels: [MODEL],
    promptTokens: 120_000,
    outputTokens: 2,
    firstTokenMs: 1,
    interTokenMs: 1,
  })
  t.after(() => engine.close())
  const service = await startProxyService(
    parseConfig({
      upstream: engine.url,
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      gpu: { enabled: false },
    }),
  )
  t.after(() => service.close())
  const hook = await startHookReceiver()
  t.after(() => hook.close())

  const base = {
    upstream: engine.url,
    admin: new URL(service.adminUrl).host,
    alerts: { profile: 'test', language: 'en' },
  }
  const stack = await startRulesStack(base, `${hook.url}/hooks/alertmanager`)
  t.after(() => stack.close())
  const { prom } = stack

  const send = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${service.proxyUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: MODEL,
          messages: [{ role: 'user', content: 'hi' }],
          max_tokens: 2,
        }),
      })
      assert.equal(res.status, 200)
      await res.arrayBuffer()
    }
    await service.settled()
  }
  const scrapedCount = async (cls: string) =>
    (
      await queryPrometheus(
        prom.url,
        `sum(gen_ai_server_request_duration_seconds_count{context_class="${cls}"})`,
      )
    )[0]?.value ?? 0

  // One request of each class first: Prometheus needs a series to exist before rate() sees it grow.
  await send(1)
  engine.set({ promptTokens: 50 })
  await send(1)
  await waitUntil('both classes scraped', async () =>
    (await scrapedCount('long')) === 1 && (await scrapedCount('short')) === 1 ? true : undefined,
  )
  engine.set({ promptTokens: 120_000 })
  await send(6)
  const firing = await waitUntil('LLMLongContextOverload firing', async () => {
    const a = (await listPrometheusAlerts(prom.url)).find(
      (x) => x.labels.alertname === 'LLMLongContextOverload',
    )
    return a?.state === 'firing' ? a : undefined
  })
  assert.equal(firing.labels.model, MODEL)
  assert.equal(firing.labels.job, 'inferwatch')
  assert.equal(firing.labels.severity, 'critical')
  assert.ok(firing.value > 0.3 && firing.value <= 1, `share ${firing.value}`)
  // The engine's own vllm:request_success_total is scraped too, but the proxy meters this model:
  // one series per request source, never two.
  const rates = await queryPrometheus(prom.url, `llm:requests:rate1m{model="${MODEL}"}`)
  assert.deepEqual(
    rates.map((r) => r.labels.job),
    ['inferwatch'],
  )
  const engineOwn = await queryPrometheus(prom.url, 'sum(vllm:request_success_total)')
  assert.ok(
    (engineOwn[0]?.value ?? 0) > 0,
    'the scripted engine exports vllm:request_success_total',
  )
  const pending = await queryPrometheus(
    prom.url,
    'max_over_time(ALERTS{alertname="LLMLongContextOverload",alertstate="pending"}[5m])',
  )
  assert.equal(pending[0]?.value, 1)
  const notified = await waitUntil('firing webhook', async () =>
    hook.bodies.find(
      (b) =>
        b.status === 'firing' &&
        b.alerts.some((a) => a.labels.alertname === 'LLMLongContextOverload'),
    ),
  )
  const alert = notified.alerts.find((a) => a.labels.alertname === 'LLMLongContextOverload')
  assert.match(
    alert?.annotations.summary ?? '',
    /^Long-context share of requests high: \d+(\.\d+)?%$/,
  )
  assert.match(alert?.annotations.description ?? '', /100000 tokens or more/)

  // Short requests bring the 5-minute share under 30 %: the resolved notification follows.
  engine.set({ promptTokens: 50 })
  await send(20)
  await waitUntil('resolved webhook', async () =>
    hook.bodies.find(
      (b) =>
        b.status === 'resolved' &&
        b.alerts.some((a) => a.labels.alertname === 'LLMLongContextOverload'),
    ),
  )
  const share = await queryPrometheus(
    prom.url,
    `llm:long_context_requests:ratio_rate5m{model="${MODEL}"}`,
  )
  assert.ok((share[0]?.value ?? 1) < 0.3, `share after short traffic ${share[0]?.value}`)
})
