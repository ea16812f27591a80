import { createHmac } from 'node:crypto'
import { dingtalkMarkdown, plainText } from './_dialects.js'
import {
  classifyReply,
  type Driver,
  type DriverDeps,
  defaultTimeoutMs,
  isReply,
  mentionsOf,
  packWith,
  postJson,
  titleOf,
} from './_driver.js'
import { OK, type Outcome, parseJsonObject, permanent, tooLong, transient } from './_outcome.js'
import { chunkText, type PackChunk } from './_pack.js'
import { DEFAULT_LIMITS } from './_rate-limit.js'
import { utf8Bytes } from './_text.js'
import type { RelayChannelConfig } from './_types.js'

// DingTalk custom robot (https://open.dingtalk.com/document/robots/custom-robot-access,
// https://open.dingtalk.com/document/orgapp/custom-bot-send-message-type): markdown or text; the
// 20,000-byte cap is on the whole request body; @mobiles go in `at` AND as "@<mobile>" in the text,
// or nobody is pinged.

/** sign = base64(HmacSHA256(key=secret, msg=timestamp+"\n"+secret)), timestamp in ms. */
export function signDingtalk(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64')
}

/** The robot URL with &timestamp=&sign= appended; URLSearchParams percent-encodes + / =. */
export function signedDingtalkUrl(url: string, secret: string, timestampMs: number): string {
  const u = new URL(url)
  u.searchParams.set('timestamp', String(timestampMs))
  u.searchParams.set('sign', signDingtalk(secret, timestampMs))
  return u.toString()
}

export function classifyDingtalkCode(code: number, detail: string, msg: string): Outcome {
  if (code === 0) return OK
  if (code === 130101 || code === 410100) return transient('throttled', detail, 60_000)
  if (code === -1) return transient('busy', detail)
  if (code === 460101 || code === 101002) return tooLong(detail)
  if (code === 310000) {
    if (/keyword|关键词/i.test(msg)) return permanent('keyword', detail)
    if (/\bip\b|whitelist|白名单/i.test(msg)) return permanent('ip_whitelist', detail)
    return permanent('signature', detail)
  }
  if (code === 300001 || code === 300005 || code === 400101) return permanent('token', detail)
  return permanent('bad_request', detail)
}

export function createDingtalkDriver(cfg: RelayChannelConfig, deps: DriverDeps): Driver<string> {
  const markdown = cfg.msgType !== 'text'
  const dialect = markdown ? dingtalkMarkdown : plainText
  const maxBytes = cfg.maxBytes ?? 20_000
  const build = (chunks: PackChunk[]) => {
    const m = mentionsOf(cfg, chunks)
    const ats = [...m.mobiles, ...m.userIds].map((x) => `@${x}`).join(' ')
    const text =
      chunks.map((c) => chunkText(c, dialect.blockSep)).join(dialect.blockSep) +
      (ats ? `${dialect.blockSep}${ats}` : '')
    const at = { atMobiles: m.mobiles, atUserIds: m.userIds, isAtAll: m.all }
    return JSON.stringify(
      markdown
        ? { msgtype: 'markdown', markdown: { title: titleOf(chunks), text }, at }
        : { msgtype: 'text', text: { content: text }, at },
    )
  }
  return {
    dialect,
    limits: cfg.rateLimits ?? DEFAULT_LIMITS.dingtalk ?? [],
    compose: (items) => packWith(items, build, (b) => utf8Bytes(b) <= maxBytes, deps, dialect),
    async send(body) {
      const url = cfg.secret
        ? signedDingtalkUrl(cfg.url ?? '', cfg.secret, deps.now())
        : (cfg.url ?? '')
      const r = await postJson(deps, url, body, defaultTimeoutMs(cfg))
      if (!isReply(r)) return r
      return classifyReply(r, codeOf('errcode', 'errmsg'), classifyDingtalkCode, parseJsonObject)
    },
  }
}

export function codeOf(codeKey: string, msgKey: string) {
  return (b: Record<string, unknown>) => {
    const code = b[codeKey]
    if (typeof code !== 'number') return undefined
    const msg = b[msgKey]
    return { code, msg: typeof msg === 'string' ? msg : '' }
  }
}
