import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseConfig } from '../config/index.js'
import type { Meter } from '../meter/index.js'
import { startProxyService } from '../server/index.js'
import { createLogger } from '../shared/index.js'
import { startScriptedEngine } from '../sim/index.js'
import { localPayload } from '../testing/relay-kit.js'

// The hook also runs on the admin server of `inferwatch proxy` (POST /hooks/alertmanager),
// behind the admin token that `inferwatch rules` writes into alertmanager.yml.

const quietMeter: Meter = {
  observe: () => undefined,
  setServedModels: () => undefined,
  async close() {},
}

test('the proxy admin server relays POST /hooks/alertmanager behind the admin token', async (t) => {
  const engine = await startScriptedEngine({ servedModels: ['qwen3-4b-instruct-2507'] })
  t.after(() => engine.close())
  const file = join(mkdtempSync(join(tmpdir(), 'iw-relay-admin-')), 'alerts.log')
  const config = parseConfig({
    upstream: engine.url,
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    adminToken: 'admin-tok-123',
    // A different hook token must not lock Alertmanager out: it sends one Authorization header.
    relay: { hookToken: 'hook-tok-456', channels: [{ name: 'log', type: 'file', path: file }] },
  })
  const service = await startProxyService(config, { meter: quietMeter })
  t.after(() => service.close())
  const hookUrl = `${service.adminUrl}/hooks/alertmanager`
  const post = (body: string, token?: string) =>
    fetch(hookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body,
    })

  const body = localPayload('am025-firing-3-alerts.json')
  assert.equal((await post(body)).status, 401, 'no token: refused')
  const ok = await post(body, 'admin-tok-123')
  assert.equal(ok.status, 200, await ok.clone().text())
  assert.deepEqual(((await ok.json()) as { channels: unknown }).channels, { log: 'delivered' })
  const bad = await post('{"alerts": []}', 'admin-tok-123')
  assert.equal(bad.status, 400)

  const lines = readFileSync(file, 'utf8').trim().split('\n')
  assert.equal(lines.length, 1)
  assert.equal(JSON.parse(lines[0] ?? '{}').alerts, 3)
  const metrics = await (
    await fetch(`${service.adminUrl}/metrics`, {
      headers: { authorization: 'Bearer admin-tok-123' },
    })
  ).text()
  assert.match(
    metrics,
    /^inferwatch_relay_notifications_total\{channel="log",status="delivered"\} 1$/m,
  )
})

test('without relay channels the admin hook still answers (never a 404 Alertmanager will not retry)', async (t) => {
  const engine = await startScriptedEngine({ servedModels: ['qwen3-4b-instruct-2507'] })
  t.after(() => engine.close())
  const logs: string[] = []
  const config = parseConfig({ upstream: engine.url, listen: '127.0.0.1:0', admin: '127.0.0.1:0' })
  const service = await startProxyService(config, {
    meter: quietMeter,
    logger: createLogger({ write: (l) => logs.push(l) }),
  })
  t.after(() => service.close())
  assert.ok(!logs.some((l) => /no channels/.test(l)), 'nothing said at start')
  const r = await fetch(`${service.adminUrl}/hooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: localPayload('am025-firing-3-alerts.json'),
  })
  assert.equal(r.status, 200)
  assert.ok(
    logs.some((l) => /no channels are configured/.test(l) && /relay\.channels/.test(l)),
    logs.join(''),
  )
})
