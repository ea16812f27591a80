import {
  createWindow,
  dig,
  type FakeChat,
  type FakeReply,
  startFake,
  vendorReply,
} from './_core.js'

// Fake WeCom group robot (https://developer.work.weixin.qq.com/document/path/91770): the key is the only secret; content limits in UTF-8
// bytes (markdown / markdown_v2 4096, text 2048); 20 messages/min.

export interface FakeWecomOptions {
  key?: string
  now?: () => number
}

const LIMITS: Record<string, number> = { markdown: 4096, markdown_v2: 4096, text: 2048 }

export function startFakeWecom(options: FakeWecomOptions = {}): Promise<FakeChat> {
  const key = options.key ?? 'fake-wecom-key'
  const now = options.now ?? Date.now
  const window = createWindow([{ max: 20, windowMs: 60_000 }])
  const reply = (errcode: number, errmsg: string, accept = false): FakeReply => ({
    status: 200,
    body: JSON.stringify({ errcode, errmsg }),
    accept,
  })
  return startFake(
    {
      hookPath: `/cgi-bin/webhook/send?key=${key}`,
      busy: reply(-1, 'system busy'),
      handle(req) {
        if (req.path !== '/cgi-bin/webhook/send' || req.query.get('key') !== key) {
          return reply(
            93000,
            'invalid webhook url, hint: [fake], more info at https://open.work.weixin.qq.com/devtool/query?e=93000',
          )
        }
        const type = String(dig(req.json, 'msgtype') ?? '')
        const content = dig(req.json, type, 'content')
        const limit = LIMITS[type]
        if (limit === undefined || typeof content !== 'string')
          return reply(40008, 'invalid message type')
        if (Buffer.byteLength(content) > limit) {
          if (type === 'markdown') {
            return {
              status: 200,
              body: vendorReply('wecom/response-40058-markdown-too-long.json', {
                errcode: 40058,
                errmsg: 'markdown.content exceed max length 4096',
              }),
            }
          }
          return reply(40058, `${type}.content exceed max length ${limit}`)
        }
        if (!window.allow(now())) return reply(45009, 'api freq out of limit')
        return reply(0, 'ok', true)
      },
    },
    now,
  )
}
