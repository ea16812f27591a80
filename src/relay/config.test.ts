import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadConfig, parseConfig } from '../config/index.js'
import { isAppError } from '../shared/index.js'

test('relay config: defaults, and mistakes caught at load time', () => {
  const r = parseConfig({}).relay
  assert.equal(r.language, 'zh')
  assert.equal(r.timezone, 'Asia/Shanghai')
  assert.equal(r.dedupeWindowMs, 300_000)
  assert.equal(r.hookTimeoutMs, 8_000)
  assert.deepEqual(r.retry, { maxAttempts: 4, initialBackoffMs: 1000, maxBackoffMs: 30_000 })
  const bad: [unknown, RegExp][] = [
    [{ channels: [{ name: 'a', type: 'dingtalk' }] }, /needs url/],
    [{ channels: [{ name: 'a', type: 'file' }] }, /needs path/],
    [
      { channels: [{ name: 'a', type: 'wecom', url: 'http://x', msgType: 'interactive' }] },
      /markdown \| markdown_v2 \| text/,
    ],
    [{ channels: [{ name: 'a b', type: 'file', path: 'x' }] }, /metric label/],
    [
      {
        channels: [
          { name: 'a', type: 'file', path: 'x' },
          { name: 'a', type: 'file', path: 'y' },
        ],
      },
      /unique/,
    ],
    [{ channels: [{ name: 'a', type: 'slack', url: 'http://x', colour: 'red' }] }, /colour/],
    [{ channels: [{ name: 'a', type: 'slack', url: 'ftp://x' }] }, /url/],
  ]
  for (const [relay, re] of bad) {
    assert.throws(
      () => parseConfig({ relay }),
      (e) => isAppError(e, 'CONFIG_INVALID') && re.test(e.message),
      JSON.stringify(relay),
    )
  }
})

test('relay secrets come from ${ENV}', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iw-relay-cfg-'))
  const p = join(dir, 'inferwatch.yaml')
  writeFileSync(
    p,
    'relay:\n  channels:\n    - { name: ops, type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=${DT}", secret: "${DS}", mentions: { mobiles: ["13800000000"] } }\n',
  )
  const c = loadConfig({ path: p, env: { DT: 'tok', DS: 'SECx' } })
  assert.equal(c.relay.channels[0]?.url, 'https://oapi.dingtalk.com/robot/send?access_token=tok')
  assert.equal(c.relay.channels[0]?.secret, 'SECx')
  assert.deepEqual(c.relay.channels[0]?.mentions, {
    mobiles: ['13800000000'],
    userIds: [],
    all: false,
  })
})
