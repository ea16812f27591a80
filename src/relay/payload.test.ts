import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isAppError } from '../shared/index.js'
import { SHARED_SKIP } from '../testing/index.js'
import { localPayload, localPayloads, sharedPayloads } from '../testing/relay-kit.js'
import { parseAlertmanagerPayload } from './_payload.js'

const NOW = new Date('2026-11-28T17:30:00Z')

test('real Alertmanager 0.25 captures parse into the typed form', () => {
  const n = parseAlertmanagerPayload(localPayload('am025-firing-3-alerts.json'), NOW)
  assert.equal(n.version, '4')
  assert.equal(n.status, 'firing')
  assert.equal(n.alerts.length, 3)
  assert.equal(n.alerts[0]?.fingerprint, '8b3ccd5307ff973a')
  assert.equal(n.alerts[0]?.endsAt, undefined, 'Go zero time is no end')
  assert.equal(n.alerts[0]?.startsAt?.toISOString(), '2026-11-28T17:21:24.526Z')
  assert.match(
    n.alerts[0]?.generatorURL ?? '',
    /^http:\/\/prometheus\.example\.internal:9090\/graph\?g0\.expr=/,
  )
  assert.equal(n.externalURL, 'http://127.0.0.1:19093')
  const cut = parseAlertmanagerPayload(
    localPayload('am025-firing-max-alerts-2-truncated-1.json'),
    NOW,
  )
  assert.equal(cut.truncatedAlerts, 1)
  const r = parseAlertmanagerPayload(
    localPayload('am025b-resolved-escaped-receiver-long-zh.json'),
    NOW,
  )
  assert.equal(r.receiver, 'llm.pager', 'QuoteMeta escaping undone')
  assert.equal(r.status, 'resolved')
  assert.ok(r.alerts.every((a) => a.status === 'resolved' && a.endsAt))
})

test('every local payload parses', () => {
  for (const { name, body } of localPayloads()) {
    const n = parseAlertmanagerPayload(body, NOW)
    assert.ok(n.alerts.length > 0, name)
    assert.ok(
      n.alerts.every((a) => /^[0-9a-f]{16}$/.test(a.fingerprint)),
      name,
    )
  }
})

test('every shared payload parses, old shapes and Grafana included', {
  skip: sharedPayloads().length === 0 && SHARED_SKIP,
}, () => {
  const all = sharedPayloads()
  assert.ok(all.length >= 17)
  for (const { name, body } of all) {
    const n = parseAlertmanagerPayload(body, NOW)
    assert.ok(n.alerts.length > 0, name)
    for (const a of n.alerts) {
      assert.ok(a.fingerprint.length > 0, `${name}: fingerprint derived when missing`)
      assert.ok(a.generatorURL === undefined || /^https?:\/\//.test(a.generatorURL), name)
    }
  }
  const byName = new Map(all.map((p) => [p.name, parseAlertmanagerPayload(p.body, NOW)]))
  const v0 = byName.get('prometheus-bot-nogenurl-resolved-v0.json')
  assert.equal(v0?.version, '0')
  assert.equal(v0?.groupKey, '0')
  assert.ok(
    v0?.alerts.every((a) => a.status === 'resolved'),
    'no per-alert status: top-level resolved',
  )
  const grafana = byName.get('bougou-grafana-managed.json')
  assert.match(grafana?.alerts[0]?.silenceURL ?? '', /alerting\/silence\/new/)
  assert.match(grafana?.alerts[0]?.dashboardURL ?? '', /grafana\/d\//)
  assert.equal(
    grafana?.alerts[0]?.valueString,
    "[ var='D' labels={} value=1 ], [ var='C' labels={} value=12 ]",
  )
  const big = byName.get('prometheus-bot-big-output-v3.json')
  assert.ok(big && big.groupKey.length > 0, 'numeric groupKey beyond 2^64 becomes a string')
  const noFp = byName.get('prometheus-am-executor-alert-payload.json')
  assert.notEqual(
    noFp?.alerts[0]?.fingerprint,
    noFp?.alerts[1]?.fingerprint,
    'empty fingerprints derived per alert',
  )
  const k8s = byName.get('k8stech-wechatrobot-readme-sample.json')
  assert.equal(k8s?.alerts[0]?.generatorURL, undefined, '"critical" is not a URL')
})

test('bodies that can never succeed are RELAY_PAYLOAD_INVALID', () => {
  for (const body of [
    '',
    'not json',
    '[]',
    '{}',
    '{"alerts":[]}',
    '{"alerts":{}}',
    '{"alerts":[1]}',
    'null',
  ]) {
    assert.throws(
      () => parseAlertmanagerPayload(body, NOW),
      (e) => isAppError(e, 'RELAY_PAYLOAD_INVALID'),
      body,
    )
  }
})

test('missing fields are tolerated; alerts without status use endsAt, then the top status', () => {
  const n = parseAlertmanagerPayload(
    JSON.stringify({
      status: 'firing',
      alerts: [
        { labels: { alertname: 'A' }, endsAt: '2026-11-28T17:00:00Z' },
        { labels: { alertname: 'B', n: 3 } },
        {},
      ],
    }),
    NOW,
  )
  assert.deepEqual(
    n.alerts.map((a) => a.status),
    ['resolved', 'firing', 'firing'],
  )
  assert.equal(n.alerts[1]?.labels.n, '3')
  assert.equal(n.receiver, '')
  assert.equal(n.truncatedAlerts, 0)
})
