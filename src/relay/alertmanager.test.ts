import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseConfig } from '../config/index.js'
import { renderAlertmanagerConfig } from '../rules/index.js'
import { startFakeDingtalk } from '../testing/chat-fakes/index.js'
import { startAlertmanager, waitUntil } from '../testing/prom-stack.js'
import { captureLogger, relayConfig } from '../testing/relay-kit.js'
import { HOOK_PATH, startRelayServer } from './server.js'

// End to end with a REAL Alertmanager (Debian's 0.25) configured by src/rules (the test profile:
// group_wait / group_interval 1s): alerts posted to its API are grouped, sent to the relay,
// signed and delivered to the fake DingTalk.

const SECRET = 'SECe2esecret0000'

/** alertmanager.yml exactly as `inferwatch rules --profile test` writes it, pointed at this relay. */
function amConfig(hookUrl: string, token: string): string {
  const config = parseConfig({ alertmanager: { webhookUrl: hookUrl, webhookToken: token } })
  return renderAlertmanagerConfig(config, { profile: 'test' })
}

async function postAlerts(amUrl: string, alerts: unknown[]): Promise<void> {
  const res = await fetch(`${amUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts),
  })
  assert.equal(res.status, 200, await res.text())
}

function alert(name: string, endsAt: Date) {
  return {
    labels: {
      alertname: name,
      severity: 'critical',
      model: 'qwen3-4b-instruct-2507',
      instance: '127.0.0.1:8000',
    },
    annotations: { summary: `${name} 测试`, description: 'GPU 显存使用率 95%' },
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    endsAt: endsAt.toISOString(),
    generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=up',
  }
}

test('a real Alertmanager posts to the relay; firing and resolved arrive; a transient outage delivers exactly once', {
  timeout: 90_000,
}, async (t) => {
  const fake = await startFakeDingtalk({ secret: SECRET, keywords: ['LLM'] })
  t.after(() => fake.close())
  const { logger, lines } = captureLogger()
  const relay = await startRelayServer({
    host: '127.0.0.1',
    port: 0,
    logger,
    config: relayConfig({
      hookToken: 'am-token',
      retry: { maxAttempts: 2, initialBackoffMs: 100, maxBackoffMs: 200 },
      channels: [
        { name: 'ops', type: 'dingtalk', url: fake.url, secret: SECRET, keywords: ['LLM'] },
      ],
    }),
  })
  t.after(() => relay.close())
  const am = await startAlertmanager({
    configYaml: amConfig(`${relay.url}${HOOK_PATH}`, 'am-token'),
  })
  t.after(() => am.close())

  const texts = (name: string) =>
    fake.accepted
      .map((r) => (r.json as { markdown: { text: string } }).markdown.text)
      .filter((x) => x.includes(name))

  await postAlerts(am.url, [alert('LLMGPUMemoryHigh', new Date(Date.now() + 300_000))])
  const firing = await waitUntil(
    'firing message',
    async () => texts('LLMGPUMemoryHigh').find((x) => x.includes('告警中')),
    { timeoutMs: 20_000 },
  )
  assert.match(firing, /严重/)
  assert.match(firing, /\+08:00/)
  await postAlerts(am.url, [alert('LLMGPUMemoryHigh', new Date(Date.now() - 1000))])
  const resolved = await waitUntil(
    'resolved message',
    async () => texts('LLMGPUMemoryHigh').find((x) => x.includes('已恢复')),
    { timeoutMs: 20_000 },
  )
  assert.match(resolved, /持续/)

  // The robot fails 5 times: the relay's 2 attempts fail, it answers 503, Alertmanager retries.
  fake.failNext(5, 'busy')
  await postAlerts(am.url, [alert('LLMKVCacheHigh', new Date(Date.now() + 300_000))])
  await waitUntil(
    'delivery after the outage',
    async () => (texts('LLMKVCacheHigh').length > 0 ? true : undefined),
    { timeoutMs: 40_000 },
  )
  await new Promise((r) => setTimeout(r, 2500))
  assert.equal(texts('LLMKVCacheHigh').length, 1, 'exactly once')
  const failed = fake.requests.filter((r) => r.reply !== 'reset' && !r.reply.accept)
  assert.equal(failed.length, 5, 'the outage was real')
  assert.ok(
    lines.some((l) => /still failing after retries/.test(l)),
    'the relay answered 5xx at least once',
  )
  assert.ok(lines.every((l) => !l.includes(SECRET) && !l.includes('am-token')))
})
