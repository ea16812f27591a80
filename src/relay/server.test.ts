import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { main } from '../cli/index.js'
import { createLogger } from '../shared/index.js'
import { startFakeDingtalk } from '../testing/chat-fakes/index.js'
import { assertGolden } from '../testing/index.js'
import { captureLogger, localPayload, relayConfig } from '../testing/relay-kit.js'
import { startRelayServer } from './server.js'

const FIRING = localPayload('am025-firing-3-alerts.json')

test('standalone server: hook, /healthz, /metrics, bearer token, body cap, bad bodies', async (t) => {
  const fake = await startFakeDingtalk({ token: 'dt-secret-token' })
  t.after(() => fake.close())
  const { logger, lines } = captureLogger()
  const server = await startRelayServer({
    host: '127.0.0.1',
    port: 0,
    logger,
    config: relayConfig({
      hookToken: 'hook-token-1',
      maxBodyBytes: 64 * 1024,
      channels: [{ name: 'ops', type: 'dingtalk', url: fake.url }],
    }),
  })
  t.after(() => server.close())
  const hook = `${server.url}/hooks/alertmanager`
  const auth = { authorization: 'Bearer hook-token-1', 'content-type': 'application/json' }

  assert.equal((await fetch(`${server.url}/healthz`)).status, 200)
  const noAuth = await fetch(hook, { method: 'POST', body: FIRING })
  assert.equal(noAuth.status, 401)
  assert.equal(fake.requests.length, 0)
  const get = await fetch(hook, { headers: auth })
  assert.equal(get.status, 405)

  const bad = await fetch(hook, { method: 'POST', headers: auth, body: 'not json' })
  assert.equal(bad.status, 400)
  assert.equal(
    ((await bad.json()) as { error: { code: string } }).error.code,
    'RELAY_PAYLOAD_INVALID',
  )
  const empty = await fetch(hook, { method: 'POST', headers: auth, body: '{"alerts":[]}' })
  assert.equal(empty.status, 400)
  const huge = await fetch(hook, { method: 'POST', headers: auth, body: 'x'.repeat(70 * 1024) })
  assert.equal(huge.status, 413)

  const ok = await fetch(hook, { method: 'POST', headers: auth, body: FIRING })
  assert.equal(ok.status, 200)
  assert.deepEqual(await ok.json(), { status: 'ok', channels: { ops: 'delivered' } })
  assert.equal(fake.accepted.length, 1)

  const metrics = await (await fetch(`${server.url}/metrics`)).text()
  assert.match(
    metrics,
    /inferwatch_relay_notifications_total\{channel="ops",status="delivered"\} 1/,
  )
  assert.match(metrics, /inferwatch_relay_delivery_duration_seconds_count\{channel="ops"\} 1/)
  assert.match(metrics, /inferwatch_relay_queue_depth\{channel="ops"\} 0/)
  assert.match(metrics, /inferwatch_relay_messages_total\{channel="ops"\} 1/)
  assert.ok(!metrics.includes('dt-secret-token') && !metrics.includes('hook-token-1'))
  assert.ok(lines.every((l) => !l.includes('dt-secret-token') && !l.includes('hook-token-1')))
})

test('inferwatch relay --config runs until aborted', async (t) => {
  const fake = await startFakeDingtalk({ token: 'cli-token' })
  t.after(() => fake.close())
  const dir = mkdtempSync(join(tmpdir(), 'iw-relay-cli-'))
  const cfg = join(dir, 'inferwatch.yaml')
  writeFileSync(
    cfg,
    'relay:\n  language: en\n  channels:\n    - { name: ops, type: dingtalk, url: "${DT_URL}" }\n',
  )
  const stderr: string[] = []
  const abort = new AbortController()
  const io = {
    stdout: () => {},
    stderr: (s: string) => void stderr.push(s),
    env: { DT_URL: fake.url },
    cwd: dir,
    signal: abort.signal,
    logger: createLogger(),
  }
  const exit = main(['relay', '--listen', '127.0.0.1:0', '--config', cfg, '--token', 'T1'], io)
  let url: string | undefined
  for (let i = 0; i < 200 && !url; i++) {
    url = /POST (http:\/\/\S+)/.exec(stderr.join(''))?.[1]
    if (!url) await new Promise((r) => setTimeout(r, 10))
  }
  assert.ok(url, stderr.join(''))
  const r = await fetch(url, {
    method: 'POST',
    headers: { authorization: 'Bearer T1' },
    body: FIRING,
  })
  assert.equal(r.status, 200)
  assert.match(
    JSON.stringify(fake.accepted[0]?.json),
    /\[FIRING:3\] warning · LLMTimeToFirstTokenHigh/,
  )
  abort.abort()
  assert.equal(await exit, 0)
  assert.equal(
    await main(['relay', '--listen', 'nope'], { ...io, signal: new AbortController().signal }),
    2,
  )
})

test('inferwatch relay --help (golden)', async () => {
  const out: string[] = []
  const code = await main(['relay', '--help'], {
    stdout: (s) => void out.push(s),
    stderr: () => {},
    env: {},
    cwd: '.',
    signal: new AbortController().signal,
  })
  assert.equal(code, 0)
  assertGolden('relay', 'relay-help.txt', out.join(''))
})
