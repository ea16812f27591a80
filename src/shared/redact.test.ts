import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createLogger, redactSecrets, redactUrl } from './index.js'

test('secrets in URLs and headers are masked', () => {
  assert.equal(
    redactUrl('https://oapi.dingtalk.com/robot/send?access_token=abc123'),
    'https://oapi.dingtalk.com/robot/send?access_token=***',
  )
  assert.equal(
    redactSecrets('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K-1'),
    'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***',
  )
  assert.equal(redactSecrets('Authorization: Bearer sk-XYZ.1'), 'Authorization: Bearer ***')
  assert.equal(
    redactSecrets('https://hooks.slack.com/services/T0/B0/xyz'),
    'https://hooks.slack.com/services/***',
  )
  assert.equal(
    redactSecrets('https://open.feishu.cn/open-apis/bot/v2/hook/uuid-1'),
    'https://open.feishu.cn/open-apis/bot/v2/hook/***',
  )
})

test('the logger never writes a secret', () => {
  const lines: string[] = []
  const log = createLogger({ write: (l) => lines.push(l) })
  log.warn('delivery failed', { url: 'https://x/send?access_token=TOPSECRET' })
  assert.equal(lines.length, 1)
  assert.doesNotMatch(lines[0]!, /TOPSECRET/)
  assert.match(lines[0]!, /delivery failed/)
})
