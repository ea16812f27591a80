import { createWindow, dig, type FakeChat, startFake } from './_core.js'

// Fake Slack incoming webhook: HTTP status is the result, plain-text bodies
// (https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks), <= 50
// blocks and section text <= 3000 characters (https://api.slack.com/reference/block-kit/blocks),
// about 1 message/s, then 429 + Retry-After (https://api.slack.com/docs/rate-limits).

export interface FakeSlackOptions {
  path?: string
  now?: () => number
}

export function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeChat> {
  const path = options.path ?? '/services/T000/B000/fakeslacksecret'
  const now = options.now ?? Date.now
  const window = createWindow([{ max: 1, windowMs: 1_000 }])
  const text = (status: number, body: string, headers?: Record<string, string>) => ({
    status,
    body,
    headers: { 'content-type': 'text/plain', ...headers },
  })
  return startFake(
    {
      hookPath: path,
      busy: text(500, 'rollup_error'),
      handle(req) {
        if (req.path !== path) return text(404, 'no_service')
        const raw = dig(req.json, 'blocks')
        if (typeof dig(req.json, 'text') !== 'string' && !Array.isArray(raw)) {
          return text(400, 'invalid_payload')
        }
        const blocks: unknown[] = Array.isArray(raw) ? raw : []
        if (
          blocks.length > 50 ||
          blocks.some((b) => {
            const s = dig(b, 'text', 'text')
            return typeof s === 'string' && s.length > 3000
          })
        ) {
          return text(400, 'invalid_blocks')
        }
        if (!window.allow(now())) return text(429, 'rate_limited', { 'retry-after': '1' })
        return { ...text(200, 'ok'), accept: true }
      },
    },
    now,
  )
}

/** A generic webhook receiver: accepts any POST with 200. */
export function startFakeWebhook(options: { now?: () => number } = {}): Promise<FakeChat> {
  return startFake(
    {
      hookPath: '/webhook',
      busy: text503(),
      handle: () => ({ status: 200, body: '{"ok":true}', accept: true }),
    },
    options.now ?? Date.now,
  )
}

function text503() {
  return { status: 503, body: 'unavailable' }
}
