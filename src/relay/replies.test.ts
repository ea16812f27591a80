import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { test } from 'node:test'
import { closeServer, listenLocal, readSharedFixture, SHARED_SKIP } from '../testing/index.js'
import { localPayload, metricValue, startHook } from '../testing/relay-kit.js'

// Every vendor's reply, as the real API words it (the maintainers' chat captures where present,
// README: Development; the error codes the vendors document otherwise: DingTalk
// https://open.dingtalk.com/document/robots/custom-robot-access, WeCom
// https://developer.work.weixin.qq.com/document/path/91770, Feishu
// https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot, Slack
// https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks), judged
// end to end through the hook: a permanent
// config error is answered 2xx, sent once and counted by reason; a transient one is retried and
// answered 5xx so Alertmanager retries. HTTP 200 is never taken as success on its own.

const FIRING = localPayload('am025-firing-3-alerts.json')

type Case = {
  type: 'dingtalk' | 'wecom' | 'feishu' | 'slack'
  /** A chat capture of the maintainers' fixture folder (README: Development), or an inline body. */
  fixture?: string
  body?: string
  status?: number
  reason: string
  kind: 'permanent' | 'transient'
}

const CASES: Case[] = [
  {
    type: 'dingtalk',
    fixture: 'dingtalk/response-300001-token-not-exist.json',
    reason: 'token',
    kind: 'permanent',
  },
  {
    type: 'dingtalk',
    fixture: 'dingtalk/response-310000-sign-new.json',
    reason: 'signature',
    kind: 'permanent',
  },
  {
    type: 'dingtalk',
    fixture: 'dingtalk/response-310000-sign-legacy.json',
    reason: 'signature',
    kind: 'permanent',
  },
  {
    type: 'dingtalk',
    fixture: 'dingtalk/response-310000-keywords-legacy.json',
    reason: 'keyword',
    kind: 'permanent',
  },
  {
    type: 'dingtalk',
    fixture: 'dingtalk/response-400602-miss-param.json',
    reason: 'bad_request',
    kind: 'permanent',
  },
  {
    type: 'dingtalk',
    body: '{"errcode":310000,"errmsg":"description:关键词不匹配;solution:请联系群管理员查看此机器人的关键词，并在发送的信息中包含此关键词;"}',
    reason: 'keyword',
    kind: 'permanent',
  },
  {
    type: 'dingtalk',
    body: '{"errcode":310000,"errmsg":"ip 203.0.113.7 not in whitelist"}',
    reason: 'ip_whitelist',
    kind: 'permanent',
  },
  {
    type: 'dingtalk',
    body: '{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}',
    reason: 'throttled',
    kind: 'transient',
  },
  {
    type: 'dingtalk',
    body: '{"errcode":-1,"errmsg":"系统繁忙"}',
    reason: 'busy',
    kind: 'transient',
  },
  { type: 'dingtalk', body: '<html>gateway</html>', reason: 'unknown', kind: 'transient' },
  {
    type: 'dingtalk',
    status: 502,
    body: '<html>502 Bad Gateway</html>',
    reason: 'server_error',
    kind: 'transient',
  },
  {
    type: 'wecom',
    body: '{"errcode":93000,"errmsg":"invalid webhook url, hint: [1700000000_1_abc]"}',
    reason: 'token',
    kind: 'permanent',
  },
  {
    type: 'wecom',
    body: '{"errcode":45009,"errmsg":"api freq out of limit"}',
    reason: 'throttled',
    kind: 'transient',
  },
  {
    type: 'wecom',
    body: '{"errcode":-1,"errmsg":"system busy"}',
    reason: 'busy',
    kind: 'transient',
  },
  {
    type: 'feishu',
    fixture: 'feishu/response-19021-sign.real.json',
    reason: 'signature',
    kind: 'permanent',
  },
  {
    type: 'feishu',
    fixture: 'feishu/response-19021-sign.official-doc.json',
    reason: 'signature',
    kind: 'permanent',
  },
  {
    type: 'feishu',
    fixture: 'feishu/response-19022-ip.official-doc.json',
    reason: 'ip_whitelist',
    kind: 'permanent',
  },
  {
    type: 'feishu',
    fixture: 'feishu/response-19024-keywords.official-doc.json',
    reason: 'keyword',
    kind: 'permanent',
  },
  {
    type: 'feishu',
    fixture: 'feishu/response-9499-bad-request.official-doc.json',
    reason: 'bad_request',
    kind: 'permanent',
  },
  {
    type: 'feishu',
    body: '{"code":11232,"msg":"frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"}',
    reason: 'throttled',
    kind: 'transient',
  },
  { type: 'slack', status: 403, body: 'action_prohibited', reason: 'token', kind: 'permanent' },
  { type: 'slack', status: 404, body: 'channel_not_found', reason: 'token', kind: 'permanent' },
  { type: 'slack', status: 410, body: 'channel_is_archived', reason: 'token', kind: 'permanent' },
  { type: 'slack', status: 500, body: 'rollup_error', reason: 'server_error', kind: 'transient' },
  { type: 'slack', status: 429, body: 'rate_limited', reason: 'throttled', kind: 'transient' },
]

test('every vendor reply is judged from its body: config errors 2xx once, transient ones retried then 5xx', async (t) => {
  let reply = { status: 200, body: '' }
  let hits = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      hits++
      res.writeHead(reply.status, { 'content-type': 'application/json' })
      res.end(reply.body)
    })
  })
  const base = await listenLocal(server)
  t.after(() => closeServer(server))
  const paths = {
    dingtalk: '/robot/send?access_token=tok-abc-secret',
    wecom: '/cgi-bin/webhook/send?key=key-abc-secret',
    feishu: '/open-apis/bot/v2/hook/hook-abc-secret',
    slack: '/services/T0/B0/slack-abc-secret',
  }
  let ran = 0
  for (const c of CASES) {
    const body = c.fixture ? readSharedFixture(`chat/${c.fixture}`) : c.body
    if (body === undefined) continue
    ran++
    reply = { status: c.status ?? 200, body }
    hits = 0
    const name = c.fixture ?? `${c.type} ${c.status ?? 200} ${body.slice(0, 40)}`
    const { hook, registry, lines } = startHook({
      retry: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 10 },
      channels: [{ name: 'ch', type: c.type, url: `${base}${paths[c.type]}` }],
    })
    const r = await hook.deliver(FIRING)
    await hook.close()
    const failures = await metricValue(registry, 'inferwatch_relay_failures_total', {
      channel: 'ch',
      reason: c.reason,
    })
    if (c.kind === 'permanent') {
      assert.equal(r.httpStatus, 200, name)
      assert.deepEqual(r.body.channels, { ch: 'rejected' }, name)
      assert.equal(hits, 1, `${name}: not retried`)
      assert.equal(failures, 1, `${name}: counted as ${c.reason}`)
      assert.ok(
        lines.some((l) => /ERROR/.test(l) && l.includes('rejected the message')),
        `${name}: logged loudly`,
      )
    } else {
      assert.equal(r.httpStatus, 503, name)
      assert.deepEqual(r.body.channels, { ch: 'failed' }, name)
      assert.equal(hits, 2, `${name}: retried`)
      assert.equal(failures, 2, `${name}: counted as ${c.reason}`)
    }
    assert.ok(
      lines.every((l) => !l.includes('abc-secret')),
      `${name}: the token stays out of the log`,
    )
  }
  if (ran < CASES.length) t.diagnostic(`${CASES.length - ran} fixture cases: ${SHARED_SKIP}`)
  assert.ok(ran >= CASES.filter((c) => !c.fixture).length)
})
