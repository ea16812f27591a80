import { createHmac, timingSafeEqual } from 'node:crypto'
import {
  createWindow,
  dig,
  type FakeChat,
  type FakeReply,
  startFake,
  vendorReply,
} from './_core.js'

// Fake DingTalk custom robot (https://open.dingtalk.com/document/robots/custom-robot-access,
// https://open.dingtalk.com/document/orgapp/custom-bot-send-message-type), checking what the real one checks: access_token,
// 加签 (timestamp in ms within 1 h; sign = base64 HmacSHA256(secret, ts+"\n"+secret), read from
// the query string as the server decodes it — an un-encoded "+" fails), keywords, the
// 20,000-byte body, markdown title, 20 messages/min (then throttled for 10 min). Errors come
// with HTTP 200, as the real API sends them.

export interface FakeDingtalkOptions {
  token?: string
  secret?: string
  keywords?: string[]
  now?: () => number
}

/** The vendor's signature, computed independently of src/relay (tested against a known vector). */
export function dingtalkSignature(secret: string, timestampMs: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64')
}

const ok = (): FakeReply => ({
  status: 200,
  body: vendorReply('dingtalk/response-ok.json', { errcode: 0, errmsg: 'ok' }),
  accept: true,
})
const err = (fixture: string, errcode: number, errmsg: string): FakeReply => ({
  status: 200,
  body: vendorReply(`dingtalk/${fixture}`, { errcode, errmsg }),
})

export function startFakeDingtalk(options: FakeDingtalkOptions = {}): Promise<FakeChat> {
  const token = options.token ?? 'fake-dingtalk-token'
  const now = options.now ?? Date.now
  const window = createWindow([{ max: 20, windowMs: 60_000 }])
  let throttledUntil = 0
  return startFake(
    {
      hookPath: `/robot/send?access_token=${token}`,
      busy: { status: 200, body: JSON.stringify({ errcode: -1, errmsg: '系统繁忙' }) },
      handle(req) {
        if (req.path !== '/robot/send' || req.query.get('access_token') !== token) {
          return err('response-300001-token-not-exist.json', 300001, 'token is not exist')
        }
        if (options.secret) {
          const ts = req.query.get('timestamp') ?? ''
          const sign = req.query.get('sign') ?? ''
          const want = Buffer.from(dingtalkSignature(options.secret, ts))
          const fresh = /^\d+$/.test(ts) && Math.abs(now() - Number(ts)) <= 3_600_000
          if (!fresh || want.length !== sign.length || !timingSafeEqual(want, Buffer.from(sign))) {
            return err('response-310000-sign-new.json', 310000, 'sign not match')
          }
        }
        if (Buffer.byteLength(req.body) > 20_000) {
          return err(
            'response-460101-too-long-new.json',
            460101,
            'message too long, exceed 20000 bytes',
          )
        }
        const type = dig(req.json, 'msgtype')
        const text =
          type === 'markdown'
            ? dig(req.json, 'markdown', 'text')
            : type === 'text'
              ? dig(req.json, 'text', 'content')
              : undefined
        if (type === 'markdown' && typeof dig(req.json, 'markdown', 'title') !== 'string') {
          return err(
            'response-400402-markdown-title-missing.json',
            400402,
            'markdown title missing',
          )
        }
        if (typeof text !== 'string' || text === '') {
          return err('response-400602-miss-param.json', 400602, 'miss param : text')
        }
        if (options.keywords?.length && !options.keywords.some((k) => text.includes(k))) {
          return err('response-310000-keywords-legacy.json', 310000, 'keywords not in content')
        }
        if (now() < throttledUntil || !window.allow(now())) {
          throttledUntil = Math.max(throttledUntil, now() + 600_000)
          return {
            status: 200,
            body: JSON.stringify({
              errcode: 130101,
              errmsg: 'send too fast, exceed 20 times per minute',
            }),
          }
        }
        return ok()
      },
    },
    now,
  )
}
