import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { test } from 'node:test'
import { startFakeDingtalk, startFakeSlack, startFakeWecom } from '../testing/chat-fakes/index.js'
import { closeServer, listenLocal } from '../testing/index.js'
import { fakeClock, localPayload, metricValue, startHook } from '../testing/relay-kit.js'

// Delivery that loses nothing: transient failures retried, persistent ones answered 5xx so
// Alertmanager retries, permanent config errors answered 2xx + logged with the fix + counted.

const FIRING = localPayload('am025-firing-3-alerts.json')
const SECRET = 'SECtopsecretsigningkey000'
const TOKEN = 'tok-very-secret-123'

function withGroup(body: string, i: number): string {
  const p = JSON.parse(body)
  p.groupKey = `${p.groupKey}-${i}`
  p.alerts = p.alerts.map((a: { labels: Record<string, string> }) => ({
    ...a,
    labels: { ...a.labels, shard: String(i) },
  }))
  return JSON.stringify(p)
}

/** The fake DingTalk robot (TOKEN, SECRET, keyword LLM) on a fake clock, closed after the test. */
async function startDingtalk(t: import('node:test').TestContext, fakeOpts = {}) {
  const clock = fakeClock()
  const fake = await startFakeDingtalk({
    token: TOKEN,
    secret: SECRET,
    keywords: ['LLM'],
    now: clock.now,
    ...fakeOpts,
  })
  t.after(() => fake.close())
  return { clock, fake }
}

async function dingtalkSetup(
  t: import('node:test').TestContext,
  relay: Record<string, unknown> = {},
  fakeOpts = {},
) {
  const { clock, fake } = await startDingtalk(t, fakeOpts)
  const h = startHook(
    {
      channels: [
        { name: 'ops', type: 'dingtalk', url: fake.url, secret: SECRET, keywords: ['LLM'] },
      ],
      ...relay,
    },
    {},
    clock,
  )
  t.after(() => h.hook.close())
  return { fake, ...h }
}

test('a transient failure is retried and delivered exactly once', async (t) => {
  for (const kind of ['busy', 'http500', 'reset'] as const) {
    const { fake, hook, registry, clock } = await dingtalkSetup(t)
    fake.failNext(2, kind)
    const r = await hook.deliver(FIRING)
    assert.equal(r.httpStatus, 200, kind)
    assert.deepEqual(r.body.channels, { ops: 'delivered' })
    assert.equal(fake.accepted.length, 1, kind)
    assert.equal(fake.requests.length, 3, kind)
    assert.deepEqual(clock.slept, [1000, 2000], 'exponential backoff')
    const reason = kind === 'busy' ? 'busy' : kind === 'http500' ? 'server_error' : 'network'
    assert.equal(
      await metricValue(registry, 'inferwatch_relay_failures_total', { channel: 'ops', reason }),
      2,
      kind,
    )
    assert.equal(
      await metricValue(registry, 'inferwatch_relay_notifications_total', {
        channel: 'ops',
        status: 'delivered',
      }),
      1,
    )
  }
})

test('a persistent failure answers 5xx; the Alertmanager retry delivers once it recovers', async (t) => {
  const { fake, hook, registry, lines } = await dingtalkSetup(t)
  fake.failNext(100)
  const r = await hook.deliver(FIRING)
  assert.equal(r.httpStatus, 503)
  assert.equal(r.body.error?.code, 'RELAY_DELIVERY_FAILED')
  assert.equal(fake.accepted.length, 0)
  assert.equal(fake.requests.length, 4, 'retry.maxAttempts')
  assert.equal(
    await metricValue(registry, 'inferwatch_relay_notifications_total', {
      channel: 'ops',
      status: 'failed',
    }),
    1,
  )
  fake.failNext(0)
  const again = await hook.deliver(FIRING)
  assert.equal(again.httpStatus, 200)
  assert.equal(fake.accepted.length, 1)
  const third = await hook.deliver(FIRING)
  assert.deepEqual(
    third.body.channels,
    { ops: 'duplicate' },
    'a repeat within the window is dropped',
  )
  assert.equal(fake.accepted.length, 1)
  assert.ok(
    lines.every((l) => !l.includes(TOKEN) && !l.includes(SECRET)),
    'no secret in logs',
  )
})

test('a retry that arrives while the first delivery is pending joins it: nothing is sent twice', async (t) => {
  const clock = fakeClock()
  const fake = await startFakeDingtalk({ token: TOKEN, now: clock.now })
  t.after(() => fake.close())
  let release: () => void = () => {}
  const gate = new Promise<void>((r) => {
    release = r
  })
  const { hook } = startHook(
    { hookTimeoutMs: 30, channels: [{ name: 'ops', type: 'dingtalk', url: fake.url }] },
    {
      sleep: async (ms) => {
        clock.advance(ms)
        await gate
      },
    },
    clock,
  )
  t.after(() => hook.close())
  fake.failNext(1)
  const first = await hook.deliver(FIRING)
  assert.equal(first.httpStatus, 503, 'still retrying when the hook must answer')
  assert.deepEqual(first.body.channels, { ops: 'pending' })
  release()
  // Alertmanager keeps retrying; each retry joins the pending delivery until it lands.
  let status = 0
  for (let i = 0; i < 100 && status !== 200; i++) status = (await hook.deliver(FIRING)).httpStatus
  assert.equal(status, 200)
  assert.equal(fake.accepted.length, 1)
  assert.equal(fake.requests.length, 2, 'one failure, one success, no duplicate')
})

test('a permanent config error answers 2xx, is counted and logged with the fix, without secrets', async (t) => {
  const cases = [
    {
      url: (u: string) => u.replace(TOKEN, 'wrong-token-xyz'),
      secret: SECRET,
      reason: 'token',
      fix: /copy the webhook URL again/,
    },
    {
      url: (u: string) => u,
      secret: 'SECwrongsecretvalue',
      reason: 'signature',
      fix: /signing secret/,
    },
    {
      url: (u: string) => u,
      secret: SECRET,
      keywords: [],
      reason: 'keyword',
      fix: /keyword/,
      body: FIRING.replace(/LLM/g, 'X'),
    },
  ]
  for (const c of cases) {
    const { clock, fake } = await startDingtalk(t)
    const { hook, registry, lines } = startHook(
      {
        channels: [
          {
            name: 'ops',
            type: 'dingtalk',
            url: c.url(fake.url),
            secret: c.secret,
            keywords: c.keywords,
          },
        ],
      },
      {},
      clock,
    )
    t.after(() => hook.close())
    const r = await hook.deliver(c.body ?? FIRING)
    assert.equal(r.httpStatus, 200, c.reason)
    assert.deepEqual(r.body.channels, { ops: 'rejected' })
    assert.equal(fake.requests.length, 1, 'not retried: retrying cannot help')
    assert.equal(
      await metricValue(registry, 'inferwatch_relay_failures_total', {
        channel: 'ops',
        reason: c.reason,
      }),
      1,
    )
    assert.equal(
      await metricValue(registry, 'inferwatch_relay_notifications_total', {
        channel: 'ops',
        status: 'rejected',
      }),
      1,
    )
    const line = lines.find((l) => l.includes('rejected the message'))
    assert.ok(line, 'logged loudly')
    assert.match(line, /ERROR/)
    assert.match(line, c.fix)
    for (const l of lines) {
      assert.ok(
        !l.includes(TOKEN) &&
          !l.includes('wrong-token-xyz') &&
          !l.includes(SECRET) &&
          !l.includes(c.secret),
        l,
      )
    }
    const metrics = await registry.metrics()
    assert.ok(
      !metrics.includes(TOKEN) && !metrics.includes('127.0.0.1'),
      'metrics carry the channel name, not the URL',
    )
  }
})

test('a burst never trips the rate limit: queued, coalesced, nothing dropped', async (t) => {
  const { fake, hook, registry } = await dingtalkSetup(t, { dedupeWindowMs: 0 })
  const bodies = Array.from({ length: 60 }, (_, i) => withGroup(FIRING, i))
  const depth = () => metricValue(registry, 'inferwatch_relay_queue_depth', { channel: 'ops' })
  const pending = bodies.map((b) => hook.deliver(b))
  assert.ok((await depth()) >= 50, `the burst waits in the queue: depth ${await depth()}`)
  const replies = await Promise.all(pending)
  assert.ok(replies.every((r) => r.httpStatus === 200))
  assert.equal(await depth(), 0, 'the queue drains')
  const codes = fake.requests.map((r) =>
    r.reply === 'reset' ? 'reset' : JSON.parse(r.reply.body).errcode,
  )
  assert.ok(
    codes.every((c) => c === 0),
    `every request accepted: ${codes.join(',')}`,
  )
  assert.ok(fake.accepted.length < 30, `coalesced into ${fake.accepted.length} messages`)
  const text = fake.accepted.map((r) => JSON.stringify(r.json)).join('\n')
  for (let i = 0; i < 60; i++) {
    assert.equal(
      text.match(new RegExp(`shard=${i}(?!\\d)`, 'g'))?.length,
      3,
      `all 3 alerts of notification ${i} arrive once`,
    )
  }
  for (let i = 20; i < fake.accepted.length; i++) {
    const a = fake.accepted[i - 20]?.atMs ?? 0
    assert.ok((fake.accepted[i]?.atMs ?? 0) - a >= 60_000, 'at most 20 per minute')
  }
})

test('channels that post to the same robot share its rate limit', async (t) => {
  const clock = fakeClock()
  const fake = await startFakeDingtalk({ token: TOKEN, now: clock.now })
  t.after(() => fake.close())
  // One robot, two channels (critical with mentions, warning without): 20/min is the robot's.
  const { hook } = startHook(
    {
      dedupeWindowMs: 0,
      channels: [
        {
          name: 'crit',
          type: 'dingtalk',
          url: fake.url,
          match: { severity: 'critical' },
          mentions: { mobiles: ['13800000000'] },
        },
        { name: 'warn', type: 'dingtalk', url: fake.url, match: { severity: 'warning' } },
      ],
    },
    {},
    clock,
  )
  t.after(() => hook.close())
  for (let i = 0; i < 30; i++) {
    const p = JSON.parse(withGroup(FIRING, i))
    if (i % 2) for (const a of p.alerts) a.labels.severity = 'critical'
    const r = await hook.deliver(JSON.stringify(p))
    assert.equal(r.httpStatus, 200, `notification ${i}: ${JSON.stringify(r.body)}`)
  }
  const refused = fake.requests.filter((r) => r.reply === 'reset' || !r.reply.accept)
  assert.deepEqual(
    refused.map((r) => (r.reply === 'reset' ? 'reset' : r.reply.body)),
    [],
    'the robot never throttled',
  )
  assert.equal(fake.accepted.length, 30)
  for (let i = 20; i < fake.accepted.length; i++) {
    const a = fake.accepted[i - 20]?.atMs ?? 0
    assert.ok(
      (fake.accepted[i]?.atMs ?? 0) - a >= 61_000,
      'at most 20 per minute for both channels, with 1 s to spare for network jitter',
    )
  }
})

test('dedupe drops repeats only within the window; reminders after it go out', async (t) => {
  const { fake, hook, clock } = await dingtalkSetup(t, { dedupeWindowMs: 60_000 })
  assert.deepEqual((await hook.deliver(FIRING)).body.channels, { ops: 'delivered' })
  assert.deepEqual((await hook.deliver(FIRING)).body.channels, { ops: 'duplicate' })
  const resolved = localPayload('am025-resolved-2-alerts.json')
  assert.deepEqual(
    (await hook.deliver(resolved)).body.channels,
    { ops: 'delivered' },
    'a new state is not a repeat',
  )
  clock.advance(61_000)
  assert.deepEqual((await hook.deliver(FIRING)).body.channels, { ops: 'delivered' })
  assert.equal(fake.accepted.length, 3)
})

test('Slack 429 waits Retry-After; an API that disagrees on size gets one alert per message', async (t) => {
  const clock = fakeClock()
  const slack = await startFakeSlack({ now: clock.now })
  const wecom = await startFakeWecom({ now: clock.now })
  t.after(() => Promise.all([slack.close(), wecom.close()]))
  const { hook, registry } = startHook(
    {
      dedupeWindowMs: 0,
      channels: [
        // Limits overridden above what the robots allow, to make them push back.
        {
          name: 'slack',
          type: 'slack',
          url: slack.url,
          rateLimits: [{ max: 100, windowMs: 1000 }],
        },
        { name: 'wecom', type: 'wecom', url: wecom.url, maxBytes: 6000 },
      ],
    },
    {},
    clock,
  )
  t.after(() => hook.close())
  const replies = await Promise.all([0, 1, 2].map((i) => hook.deliver(withGroup(FIRING, i))))
  assert.ok(replies.every((r) => r.httpStatus === 200 && r.body.channels?.slack === 'delivered'))
  assert.ok(replies.every((r) => r.body.channels?.wecom === 'delivered'))
  assert.ok(
    slack.requests.some((r) => r.reply !== 'reset' && r.reply.status === 429),
    'the fake pushed back',
  )
  assert.ok(
    clock.slept.some((ms) => ms >= 1000),
    'waited at least Retry-After',
  )
  assert.ok(
    (await metricValue(registry, 'inferwatch_relay_failures_total', {
      channel: 'wecom',
      reason: 'too_long',
    })) >= 1,
  )
  const text = wecom.accepted.map((r) => JSON.stringify(r.json)).join('\n')
  for (let i = 0; i < 3; i++) {
    for (const inst of ['vllm-0', 'vllm-1', 'vllm-2']) {
      assert.ok(text.includes(`instance=${inst}:8000, shard=${i}`), `${inst} of ${i} delivered`)
    }
  }
})

test('a file sink with path "-" writes JSON lines to stdout', async () => {
  const out: string[] = []
  const { hook } = startHook(
    { channels: [{ name: 'log', type: 'file', path: '-' }] },
    { writeStdout: (s) => out.push(s) },
  )
  assert.equal((await hook.deliver(FIRING)).httpStatus, 200)
  await hook.close()
  assert.equal(out.length, 1)
  const line = JSON.parse(out[0] ?? '')
  assert.equal(line.channel, 'log')
  assert.equal(line.alerts, 3)
  assert.match(line.text, /已持续/)
})

test('a split notification that fails part-way resumes where it stopped on the retry', async (t) => {
  const clock = fakeClock()
  const wecom = await startFakeWecom({ now: clock.now })
  t.after(() => wecom.close())
  let calls = 0
  let healthy = false
  // The robot's first message goes through, then the network fails until `healthy`.
  const flaky: typeof fetch = async (input, init) => {
    calls++
    if (calls > 1 && !healthy)
      throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } })
    return fetch(input, init)
  }
  const { hook } = startHook(
    { channels: [{ name: 'wecom', type: 'wecom', msgType: 'text', url: wecom.url }] },
    { fetch: flaky },
    clock,
  )
  t.after(() => hook.close())
  const first = await hook.deliver(FIRING)
  assert.equal(first.httpStatus, 503)
  assert.equal(wecom.accepted.length, 1, 'the first part went out')
  healthy = true
  const retry = await hook.deliver(FIRING)
  assert.equal(retry.httpStatus, 200)
  const texts = wecom.accepted.map((r) =>
    String((r.json as { text: { content: string } }).text.content),
  )
  assert.equal(texts.length, 2, 'only the missing part is sent again')
  for (const inst of ['vllm-0', 'vllm-1', 'vllm-2']) {
    assert.equal(
      texts.join('\n').split(`instance=${inst}:8000`).length - 1,
      1,
      `${inst} exactly once`,
    )
  }
  assert.match(texts[1] ?? '', /（续）/, 'the resumed part says it continues')
})

test('close() ends in-flight requests at once', async (t) => {
  const silent = createServer(() => {}) // accepts, never answers
  const url = await listenLocal(silent)
  t.after(() => closeServer(silent))
  const { hook } = startHook({
    hookTimeoutMs: 50,
    channels: [{ name: 'ops', type: 'wecom', url: `${url}/x` }],
  })
  const r = await hook.deliver(FIRING)
  assert.equal(r.httpStatus, 503)
  assert.deepEqual(r.body.channels, { ops: 'pending' })
  const started = performance.now()
  await hook.close()
  assert.ok(performance.now() - started < 2000, 'not the 10 s request timeout')
})
