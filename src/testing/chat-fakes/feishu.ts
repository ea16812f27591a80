import { createHmac } from 'node:crypto'
import {
  createWindow,
  dig,
  type FakeChat,
  type FakeReply,
  startFake,
  vendorReply,
} from './_core.js'

// Fake Feishu / Lark custom bot (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot):
// signature in the JSON body (timestamp in
// seconds within 1 h; sign = base64 HmacSHA256(key = ts+"\n"+secret, msg = "")), keywords in the
// text, 20 KB body, 5/s and 100/min.

export interface FakeFeishuOptions {
  token?: string
  secret?: string
  keywords?: string[]
  now?: () => number
}

/** Computed independently of src/relay (tested against a known vector). */
export function feishuSignature(secret: string, timestampSec: string): string {
  return createHmac('sha256', `${timestampSec}\n${secret}`).update('').digest('base64')
}

const reply = (fixture: string, code: number, msg: string): FakeReply => ({
  status: 200,
  body: vendorReply(`feishu/${fixture}`, { code, msg }),
})

/** Every string a user sees: the text, or the card's header and markdown elements. */
function visibleText(body: unknown): string {
  if (dig(body, 'msg_type') === 'text') return String(dig(body, 'content', 'text') ?? '')
  const elements = dig(body, 'card', 'body', 'elements') ?? dig(body, 'card', 'elements')
  const parts = [
    dig(body, 'card', 'header', 'title', 'content'),
    ...(Array.isArray(elements) ? elements : []).map(
      (e) => dig(e, 'content') ?? dig(e, 'text', 'content'),
    ),
  ]
  return parts.filter((p) => typeof p === 'string').join('\n')
}

export function startFakeFeishu(options: FakeFeishuOptions = {}): Promise<FakeChat> {
  const token = options.token ?? 'fake-feishu-token'
  const now = options.now ?? Date.now
  const window = createWindow([
    { max: 5, windowMs: 1_000 },
    { max: 100, windowMs: 60_000 },
  ])
  return startFake(
    {
      hookPath: `/open-apis/bot/v2/hook/${token}`,
      busy: { status: 200, body: JSON.stringify({ code: -1, msg: 'system busy' }) },
      handle(req) {
        if (req.path !== `/open-apis/bot/v2/hook/${token}`) {
          return {
            status: 200,
            body: JSON.stringify({
              code: 19001,
              msg: 'param invalid: incoming webhook access token invalid',
            }),
          }
        }
        if (Buffer.byteLength(req.body) > 20_000) {
          return {
            status: 200,
            body: JSON.stringify({
              code: 19036,
              msg: 'The message exceeds the size limit of 20KB',
            }),
          }
        }
        const body = req.json
        const msgType = dig(body, 'msg_type')
        if (msgType !== 'text' && msgType !== 'interactive') {
          return reply('response-9499-bad-request.official-doc.json', 9499, 'Bad Request')
        }
        if (options.secret) {
          const stamp = dig(body, 'timestamp')
          const ts = typeof stamp === 'string' ? stamp : ''
          const fresh = /^\d+$/.test(ts) && Math.abs(now() / 1000 - Number(ts)) <= 3600
          if (!fresh || dig(body, 'sign') !== feishuSignature(options.secret, ts)) {
            return reply(
              'response-19021-sign.real.json',
              19021,
              'sign match fail or timestamp is not within one hour from current time',
            )
          }
        }
        const text = visibleText(body)
        if (options.keywords?.length && !options.keywords.some((k) => text.includes(k))) {
          return reply('response-19024-keywords.official-doc.json', 19024, 'Key Words Not Found')
        }
        if (!window.allow(now()))
          return { status: 200, body: JSON.stringify({ code: 11232, msg: 'frequency limited' }) }
        return {
          status: 200,
          body: vendorReply('feishu/response-success.official-doc.jsonc', {
            StatusCode: 0,
            StatusMessage: 'success',
            code: 0,
            data: {},
            msg: 'success',
          }),
          accept: true,
        }
      },
    },
    now,
  )
}
