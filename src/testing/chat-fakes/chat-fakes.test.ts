import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  dingtalkSignature,
  feishuSignature,
  startFakeDingtalk,
  startFakeFeishu,
  startFakeWecom,
} from './index.js'

// The fakes' own checks. The signature vectors were computed with the documented algorithms
// (DingTalk https://open.dingtalk.com/document/robots/custom-robot-access, Feishu
// https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot) and cross-checked with
// Python's hmac.

test('DingTalk signature matches the documented vector', () => {
  const sign = dingtalkSignature('SEC000000000000000000000', '1599360473000')
  assert.equal(sign, 'kjOV9n/gRl1AeeXnxqNB9wcQisVPOw+8ce62niAcJZ4=')
  assert.equal(encodeURIComponent(sign), 'kjOV9n%2FgRl1AeeXnxqNB9wcQisVPOw%2B8ce62niAcJZ4%3D')
})

test('Feishu signature matches the documented vector', () => {
  assert.equal(
    feishuSignature('demo', '1599360473'),
    'l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=',
  )
})

const post = (url: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then((r) => r.json())

test('fake DingTalk checks the signature as the vendor does (an un-encoded + fails)', async (t) => {
  const now = 1_599_360_473_000
  const fake = await startFakeDingtalk({
    secret: 'SEC000000000000000000000',
    keywords: ['告警'],
    now: () => now,
  })
  t.after(() => fake.close())
  const msg = { msgtype: 'markdown', markdown: { title: 't', text: '告警 x' } }
  const good = `${fake.url}&timestamp=${now}&sign=kjOV9n%2FgRl1AeeXnxqNB9wcQisVPOw%2B8ce62niAcJZ4%3D`
  assert.deepEqual(await post(good, msg), { errcode: 0, errmsg: 'ok' })
  const raw = `${fake.url}&timestamp=${now}&sign=kjOV9n/gRl1AeeXnxqNB9wcQisVPOw+8ce62niAcJZ4=`
  assert.equal(((await post(raw, msg)) as { errcode: number }).errcode, 310000)
  const stale = `${fake.url}&timestamp=${now - 3_700_000}&sign=x`
  assert.equal(((await post(stale, msg)) as { errcode: number }).errcode, 310000)
  const noKeyword = await post(good, { msgtype: 'markdown', markdown: { title: 't', text: 'x' } })
  assert.match((noKeyword as { errmsg: string }).errmsg, /keywords not in content/)
  assert.equal(fake.accepted.length, 1)
})

test('fake DingTalk enforces 20,000 bytes, 20/min and transient failures', async (t) => {
  let now = 0
  const fake = await startFakeDingtalk({ now: () => now })
  t.after(() => fake.close())
  const big = await post(fake.url, { msgtype: 'text', text: { content: '告'.repeat(6700) } })
  assert.equal((big as { errcode: number }).errcode, 460101)
  for (let i = 0; i < 20; i++) {
    assert.equal(
      (
        (await post(fake.url, { msgtype: 'text', text: { content: `m${i}` } })) as {
          errcode: number
        }
      ).errcode,
      0,
    )
  }
  const over = await post(fake.url, { msgtype: 'text', text: { content: 'one too many' } })
  assert.equal((over as { errcode: number }).errcode, 130101)
  now += 61_000
  // Throttled for 10 minutes after tripping the limit, as documented.
  assert.equal(
    ((await post(fake.url, { msgtype: 'text', text: { content: 'x' } })) as { errcode: number })
      .errcode,
    130101,
  )
  now += 600_000
  fake.failNext(1)
  assert.equal(
    ((await post(fake.url, { msgtype: 'text', text: { content: 'x' } })) as { errcode: number })
      .errcode,
    -1,
  )
  assert.equal(
    ((await post(fake.url, { msgtype: 'text', text: { content: 'x' } })) as { errcode: number })
      .errcode,
    0,
  )
  assert.equal(fake.accepted.length, 21)
})

test('fake Feishu checks the body signature and keywords', async (t) => {
  const fake = await startFakeFeishu({
    secret: 'demo',
    keywords: ['alert'],
    now: () => 1_599_360_473_000,
  })
  t.after(() => fake.close())
  const base = { msg_type: 'text', content: { text: 'an alert' } }
  const ok = await post(fake.url, {
    timestamp: '1599360473',
    sign: 'l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=',
    ...base,
  })
  assert.equal((ok as { code: number }).code, 0)
  const bad = await post(fake.url, { timestamp: '1599360473', sign: 'nope', ...base })
  assert.equal((bad as { code: number }).code, 19021)
  const kw = await post(fake.url, {
    timestamp: '1599360473',
    sign: 'l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=',
    msg_type: 'text',
    content: { text: 'nothing' },
  })
  assert.equal((kw as { code: number }).code, 19024)
})

test('fake WeCom measures content in UTF-8 bytes', async (t) => {
  const fake = await startFakeWecom()
  t.after(() => fake.close())
  const fits = await post(fake.url, {
    msgtype: 'markdown',
    markdown: { content: '告'.repeat(1365) },
  })
  assert.equal((fits as { errcode: number }).errcode, 0)
  const over = await post(fake.url, {
    msgtype: 'markdown',
    markdown: { content: '告'.repeat(1366) },
  })
  assert.equal((over as { errcode: number }).errcode, 40058)
  const text = await post(fake.url, { msgtype: 'text', text: { content: 'a'.repeat(2049) } })
  assert.equal((text as { errcode: number }).errcode, 40058)
  const wrongKey = await post(fake.url.replace('key=', 'key=x'), {
    msgtype: 'text',
    text: { content: 'a' },
  })
  assert.equal((wrongKey as { errcode: number }).errcode, 93000)
})
