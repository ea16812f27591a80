import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  type FakeChat,
  startFakeDingtalk,
  startFakeFeishu,
  startFakeSlack,
  startFakeWebhook,
  startFakeWecom,
} from '../testing/chat-fakes/index.js'
import {
  fakeClock,
  localPayload,
  localPayloads,
  sharedPayloads,
  startHook,
} from '../testing/relay-kit.js'

// Every payload (the real captures always; the maintainers' relay-project fixtures when present,
// README: Development)
// rendered and delivered to every channel, signed, within the robots' size and rate limits.

test('every payload reaches every channel, accepted by each fake', async (t) => {
  // One fake clock per robot, shared with the one channel that posts to it: a rate-limit wait on
  // another channel must not move this robot's clock while a request is in flight.
  const clocks = new Map<string, ReturnType<typeof fakeClock>>()
  const clockOf = (name: string) => {
    const c = clocks.get(name) ?? fakeClock()
    clocks.set(name, c)
    return c
  }
  const now = (name: string) => clockOf(name).now
  const fakes: Record<string, FakeChat> = {
    ding: await startFakeDingtalk({
      secret: 'SECabc',
      keywords: ['告警', 'FIRING', 'RESOLVED', '已恢复'],
      now: now('ding'),
    }),
    dingText: await startFakeDingtalk({ now: now('dingText') }),
    wecom: await startFakeWecom({ now: now('wecom') }),
    wecomV2: await startFakeWecom({ now: now('wecomV2') }),
    wecomText: await startFakeWecom({ now: now('wecomText') }),
    feishu: await startFakeFeishu({
      secret: 'demo',
      keywords: ['告警', '已恢复'],
      now: now('feishu'),
    }),
    slack: await startFakeSlack({ now: now('slack') }),
    hook: await startFakeWebhook({ now: now('hook') }),
  }
  for (const f of Object.values(fakes)) t.after(() => f.close())
  const file = join(mkdtempSync(join(tmpdir(), 'iw-relay-')), 'alerts.log')
  const hooks = (
    [
      { name: 'ding', type: 'dingtalk', url: fakes.ding?.url, secret: 'SECabc' },
      {
        name: 'dingText',
        type: 'dingtalk',
        msgType: 'text',
        url: fakes.dingText?.url,
        language: 'en',
      },
      {
        name: 'wecom',
        type: 'wecom',
        url: fakes.wecom?.url,
        mentions: { userIds: ['zhangsan'] },
      },
      { name: 'wecomV2', type: 'wecom', msgType: 'markdown_v2', url: fakes.wecomV2?.url },
      {
        name: 'wecomText',
        type: 'wecom',
        msgType: 'text',
        url: fakes.wecomText?.url,
        language: 'en',
      },
      { name: 'feishu', type: 'feishu', url: fakes.feishu?.url, secret: 'demo' },
      { name: 'slack', type: 'slack', url: fakes.slack?.url, language: 'en' },
      { name: 'hook', type: 'webhook', url: fakes.hook?.url },
      { name: 'file', type: 'file', path: file },
    ] as const
  ).map((channel) => {
    const { hook } = startHook(
      { dedupeWindowMs: 0, channels: [channel] },
      {},
      clockOf(channel.name),
    )
    t.after(() => hook.close())
    return hook
  })
  const shared = sharedPayloads()
  const payloads = shared.length ? shared : localPayloads()
  for (const { name, body } of payloads) {
    const replies = await Promise.all(hooks.map((h) => h.deliver(body)))
    for (const r of replies) {
      assert.equal(r.httpStatus, 200, `${name}: ${JSON.stringify(r.body)}`)
      assert.ok(
        Object.values(r.body.channels ?? {}).every((s) => s === 'delivered'),
        `${name}: ${JSON.stringify(r.body.channels)}`,
      )
    }
  }
  for (const [name, f] of Object.entries(fakes)) {
    const refused = f.requests.filter((x) => x.reply === 'reset' || !x.reply.accept)
    assert.deepEqual(
      refused.map((x) => (x.reply === 'reset' ? 'reset' : x.reply.body)),
      [],
      `${name} refused nothing`,
    )
    assert.ok(f.accepted.length >= payloads.length, `${name}: ${f.accepted.length} messages`)
  }
  assert.equal(
    fakes.hook?.accepted.length,
    payloads.length,
    'webhook: one request per notification',
  )
  assert.equal(fakes.hook?.accepted[0]?.body, payloads[0]?.body, 'webhook: the payload as is')
  const lines = readFileSync(file, 'utf8').trim().split('\n')
  assert.equal(lines.length, payloads.length)
  assert.ok(lines.every((l) => typeof JSON.parse(l).title === 'string'))
  const big = sharedPayloads().find(
    (p) => p.name === 'am025b-resolved-escaped-receiver-long-zh.json',
  ) ?? {
    body: localPayload('am025b-resolved-escaped-receiver-long-zh.json'),
  }
  assert.ok(big.body.length > 4096, 'a payload bigger than a WeCom message exercises splitting')
})

test('routing by severity, model and receiver; sendResolved: false', async (t) => {
  const clock = fakeClock()
  const pager = await startFakeWebhook({ now: clock.now })
  const qwen = await startFakeWecom({ now: clock.now })
  const other = await startFakeWecom({ now: clock.now })
  const dotted = await startFakeWecom({ now: clock.now })
  t.after(() => Promise.all([pager.close(), qwen.close(), other.close(), dotted.close()]))
  const { hook } = startHook(
    {
      channels: [
        {
          name: 'pager',
          type: 'webhook',
          url: pager.url,
          match: { severity: 'critical' },
          sendResolved: false,
          bodyTemplate: '{"text":"{{title}}","n":{{count}}}',
        },
        { name: 'qwen', type: 'wecom', url: qwen.url, matchRe: { model: 'Qwen/.*' } },
        { name: 'other', type: 'wecom', url: other.url, match: { receiver: 'someone-else' } },
        // Alertmanager QuoteMeta-escapes the receiver ("llm\\.pager" on the wire, as captured in
        // testdata/am025b-resolved-escaped-receiver-long-zh.json).
        { name: 'dotted', type: 'wecom', url: dotted.url, match: { receiver: 'llm.pager' } },
      ],
    },
    {},
    clock,
  )
  t.after(() => hook.close())
  const warn = await hook.deliver(localPayload('am025-firing-3-alerts.json'))
  assert.deepEqual(warn.body.channels, {
    pager: 'skipped',
    qwen: 'delivered',
    other: 'skipped',
    dotted: 'skipped',
  })
  const crit = await hook.deliver(localPayload('am025-firing-zh-critical-single.json'))
  assert.deepEqual(crit.body.channels, {
    pager: 'delivered',
    qwen: 'delivered',
    other: 'skipped',
    dotted: 'skipped',
  })
  const resolved = await hook.deliver(localPayload('am025b-resolved-escaped-receiver-long-zh.json'))
  assert.equal(
    resolved.body.channels?.pager,
    'skipped',
    'resolved not sent where sendResolved is false',
  )
  assert.equal(resolved.body.channels?.dotted, 'delivered', 'receiver matched, unescaped')
  assert.equal(dotted.accepted.length, 1)
  assert.equal(pager.accepted.length, 1)
  const sent = pager.accepted[0]?.json as { text: string; n: number }
  assert.equal(sent.n, 1)
  assert.match(sent.text, /LLMErrorBudgetBurnFast/, 'JSON body template rendered and valid')
  assert.equal(other.accepted.length, 0)
})

test('a security keyword the robot requires is written into every message, split parts included', async (t) => {
  const clock = fakeClock()
  const KW = '值班机器人'
  const ding = await startFakeDingtalk({ keywords: [KW], now: clock.now })
  const feishu = await startFakeFeishu({ keywords: [KW], now: clock.now })
  t.after(() => Promise.all([ding.close(), feishu.close()]))
  const { hook } = startHook(
    {
      channels: [
        // A small maxBytes splits the long notification into several messages.
        { name: 'ding', type: 'dingtalk', url: ding.url, keywords: [KW], maxBytes: 2500 },
        { name: 'feishu', type: 'feishu', url: feishu.url, keywords: [KW], maxBytes: 3000 },
      ],
    },
    {},
    clock,
  )
  t.after(() => hook.close())
  // Three alerts split over several messages; one long alert truncated to fit.
  for (const file of [
    'am025-firing-3-alerts.json',
    'am025b-resolved-escaped-receiver-long-zh.json',
  ]) {
    const body = localPayload(file)
    assert.ok(!body.includes(KW), 'the payload itself does not carry the keyword')
    const r = await hook.deliver(body)
    assert.deepEqual(r.body.channels, { ding: 'delivered', feishu: 'delivered' }, file)
  }
  for (const [name, f] of Object.entries({ ding, feishu })) {
    assert.ok(f.accepted.length >= 3, `${name}: split into ${f.accepted.length} messages`)
    assert.equal(f.requests.length, f.accepted.length, `${name}: nothing refused`)
  }
})
