import { slackMrkdwn } from './_dialects.js'
import {
  type Driver,
  type DriverDeps,
  defaultTimeoutMs,
  isReply,
  mentionsOf,
  packWith,
  postJson,
  titleOf,
} from './_driver.js'
import { byHttpStatus, type Outcome, permanent } from './_outcome.js'
import type { PackChunk } from './_pack.js'
import { DEFAULT_LIMITS } from './_rate-limit.js'
import { utf8Bytes } from './_text.js'
import type { RelayChannelConfig } from './_types.js'

// Slack incoming webhook (https://api.slack.com/messaging/webhooks): Block Kit, <= 50 blocks,
// section text <= 3000 characters (https://api.slack.com/reference/block-kit/blocks); success is
// HTTP 200; 429 carries Retry-After (https://api.slack.com/docs/rate-limits); errors are plain-text
// bodies (https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks).

const MAX_BLOCKS = 50
const MAX_SECTION_CHARS = 3000

export function classifySlackReply(
  status: number,
  body: string,
  retryAfter: string | null,
): Outcome {
  if (status === 400 && /invalid_payload|too_long|invalid_blocks/.test(body)) {
    return permanent('bad_request', `HTTP 400 ${body.slice(0, 200)}`)
  }
  return byHttpStatus(status, body, retryAfter)
}

type SlackBody = { text: string; blocks: { type: string; text?: { type: string; text: string } }[] }

export function createSlackDriver(cfg: RelayChannelConfig, deps: DriverDeps): Driver<SlackBody> {
  const d = slackMrkdwn
  const maxBytes = cfg.maxBytes ?? 40_000
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } })
  const build = (chunks: PackChunk[]): SlackBody => {
    const blocks: SlackBody['blocks'] = []
    for (const c of chunks) {
      if (!c.bare) blocks.push(section(c.rendered.header(c.continued)))
      for (const s of c.sections) blocks.push(section(s))
      blocks.push({ type: 'divider' })
    }
    const m = mentionsOf(cfg, chunks)
    const ats = [...m.userIds.map((u) => `<@${u}>`), ...(m.all ? ['<!channel>'] : [])].join(' ')
    if (ats) blocks.push(section(ats))
    return { text: titleOf(chunks), blocks }
  }
  const fits = (b: SlackBody) =>
    b.blocks.length <= MAX_BLOCKS &&
    b.blocks.every((x) => (x.text?.text.length ?? 0) <= MAX_SECTION_CHARS) &&
    utf8Bytes(JSON.stringify(b)) <= maxBytes
  return {
    dialect: d,
    limits: cfg.rateLimits ?? DEFAULT_LIMITS.slack ?? [],
    compose: (items) => packWith(items, build, fits, deps, d),
    async send(body) {
      const r = await postJson(deps, cfg.url ?? '', JSON.stringify(body), defaultTimeoutMs(cfg))
      if (!isReply(r)) return r
      return classifySlackReply(r.status, r.text, r.retryAfter)
    },
  }
}
