// Hostile chat-API replies, from a real HTTP server, judged through the real hook: a notification
// counts as delivered only on a well-formed success body (DingTalk and WeCom `errcode` 0, Feishu
// `code` or `StatusCode` 0, numbers; Slack and generic webhooks a 2xx status), whatever else the
// reply carries. Nothing a robot answers makes the hook throw or answer other than 200 or 503.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import { fuzz, hostileJson, hostileString } from '../testing/fuzz.js'
import { closeServer, listenLocal } from '../testing/index.js'
import { fakeClock, localPayload, startHook } from '../testing/relay-kit.js'

type ChatType = 'dingtalk' | 'wecom' | 'feishu' | 'slack' | 'webhook'
const PATHS: Record<ChatType, string> = {
  dingtalk: '/robot/send?access_token=tok',
  wecom: '/cgi-bin/webhook/send?key=key',
  feishu: '/open-apis/bot/v2/hook/hook',
  slack: '/services/T0/B0/slack',
  webhook: '/webhook',
}
const SUCCESS: Record<ChatType, string[]> = {
  dingtalk: ['{"errcode":0,"errmsg":"ok"}'],
  wecom: ['{"errcode":0,"errmsg":"ok"}'],
  feishu: ['{"code":0,"data":{},"msg":"success"}', '{"StatusCode":0,"StatusMessage":"success"}'],
  slack: ['ok'],
  webhook: ['{"ok":true}', ''],
}
const CODE_KEYS: Partial<Record<ChatType, string[]>> = {
  dingtalk: ['errcode'],
  wecom: ['errcode'],
  feishu: ['code', 'StatusCode'],
}

let reply = { status: 200, body: '', contentType: 'application/json' }
let base: string
const server = createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    res.writeHead(reply.status, { 'content-type': reply.contentType })
    res.end(reply.body)
  })
})
before(async () => {
  base = await listenLocal(server)
})
after(() => closeServer(server))

/** A reply: a success body mutated (or not), under some HTTP status. */
const replyArb = (type: ChatType) =>
  fc.record({
    status: fc.constantFrom(200, 200, 200, 201, 204, 302, 400, 403, 404, 413, 429, 500, 502, 503),
    body: fc.oneof(
      fc.constantFrom(...SUCCESS[type]),
      fc.tuple(fc.constantFrom(...SUCCESS[type]), fc.nat(), hostileString).map(([s, at, x]) => {
        const i = at % (s.length + 1)
        return s.slice(0, i) + x + s.slice(i)
      }),
      fc
        .tuple(fc.constantFrom(...(CODE_KEYS[type] ?? ['errcode'])), hostileJson)
        .map(([k, v]) => JSON.stringify({ [k]: v, errmsg: 'ok', msg: 'success' })),
      fc.constantFrom(
        '',
        '<html><body>502 Bad Gateway</body></html>',
        '[{"errcode":0}]',
        '{"data":{"errcode":0,"code":0}}',
        '{"errcode":"0","code":"0"}',
        '\uFEFF{"errcode":0,"code":0}',
        'null',
        '0',
      ),
      hostileString,
    ),
    contentType: fc.constantFrom('application/json', 'text/plain', 'text/html'),
  })

/** Whether the body is a well-formed success for this API. */
function isSuccess(type: ChatType, status: number, body: string): boolean {
  const keys = CODE_KEYS[type]
  if (!keys) return status >= 200 && status < 300
  let v: unknown
  try {
    // A 204 carries no body; fetch's text() drops a leading BOM (the Encoding standard's decode).
    v = JSON.parse(status === 204 ? '' : body.replace(/^\uFEFF/, ''))
  } catch {
    return false
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const o = v as Record<string, unknown>
  const first = keys.find((k) => typeof o[k] === 'number')
  return first !== undefined && o[first] === 0
}

const FIRING = localPayload('am025-firing-3-alerts.json')

for (const type of Object.keys(PATHS) as ChatType[]) {
  test(`${type}: delivered only on a well-formed success reply; 200 or 503, never a throw`, async () => {
    const clock = fakeClock()
    const { hook } = startHook(
      {
        retry: { maxAttempts: 1, initialBackoffMs: 10, maxBackoffMs: 10 },
        channels: [{ name: 'ch', type, url: `${base}${PATHS[type]}` }],
      },
      {},
      clock,
    )
    const outcomes = new Map<string, number>()
    try {
      await fuzz(
        `${type} replies`,
        fc.asyncProperty(replyArb(type), async (r) => {
          clock.advance(301_000) // past the dedupe window and the rate limits
          reply = r
          const out = await hook.deliver(FIRING)
          const got = out.body.channels?.ch ?? 'none'
          outcomes.set(got, (outcomes.get(got) ?? 0) + 1)
          assert.ok(out.httpStatus === 200 || out.httpStatus === 503, `${out.httpStatus}`)
          const success = isSuccess(type, r.status, r.body)
          if (got === 'delivered') assert.ok(success, `delivered on ${r.status} ${r.body}`)
          if (success) assert.equal(got, 'delivered', `${r.status} ${r.body}`)
        }),
        60,
      )
    } finally {
      await hook.close()
    }
    // Both sides were exercised.
    assert.ok((outcomes.get('delivered') ?? 0) > 0, JSON.stringify([...outcomes]))
    assert.ok(outcomes.size > 1, JSON.stringify([...outcomes]))
  })
}
