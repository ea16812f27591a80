import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { test } from 'node:test'
import { queryPrometheus, startAlertmanager, startPrometheus, waitUntil } from './prom-stack.js'

const RULE = (value: number) =>
  `groups:\n  - name: t\n    interval: 1s\n    rules:\n      - record: iw:test:value\n        expr: vector(${value})\n`

test('startPrometheus runs the real binary, evaluates rule files and reloads in place', async (t) => {
  const prom = await startPrometheus({
    configYaml: 'global: { evaluation_interval: 1s }\nrule_files: [test.rules.yml]\n',
    ruleFiles: { 'test.rules.yml': RULE(1) },
  })
  t.after(() => prom.close())
  assert.match(prom.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  await waitUntil('iw:test:value == 1', async () => {
    const s = await queryPrometheus(prom.url, 'iw:test:value')
    return s[0]?.value === 1 ? true : undefined
  })
  prom.writeFiles({ 'test.rules.yml': RULE(2) })
  await prom.reload()
  await waitUntil('iw:test:value == 2 after reload', async () => {
    const s = await queryPrometheus(prom.url, 'iw:test:value')
    return s[0]?.value === 2 ? true : undefined
  })
  // The series written before the reload is still there: the TSDB survived.
  const history = await queryPrometheus(prom.url, 'min_over_time(iw:test:value[1m])')
  assert.equal(history[0]?.value, 1)
  await prom.close()
  assert.equal(existsSync(prom.dir), false)
})

test('startPrometheus reports the log when the config is invalid', async () => {
  await assert.rejects(
    startPrometheus({ configYaml: 'scrape_configs: nope\n', readyTimeoutMs: 10_000 }),
    /prometheus exited before it was ready.*\n[\s\S]*(error|err)/i,
  )
})

test('startAlertmanager runs without gossip and answers its API', async (t) => {
  const am = await startAlertmanager({
    configYaml: 'route: { receiver: "null" }\nreceivers: [{ name: "null" }]\n',
  })
  t.after(() => am.close())
  const res = await fetch(`${am.url}/api/v2/status`)
  const body: unknown = await res.json()
  assert.equal(res.status, 200)
  assert.ok(typeof body === 'object' && body !== null && 'cluster' in body)
  const cluster = (body as { cluster: { status?: unknown } }).cluster
  assert.equal(cluster.status, 'disabled')
  await am.reload()
})
