import { plainText, wecomMarkdown, wecomMarkdownV2 } from './_dialects.js'
import { codeOf } from './_dingtalk.js'
import {
  classifyReply,
  type Driver,
  type DriverDeps,
  defaultTimeoutMs,
  isReply,
  mentionsOf,
  packWith,
  postJson,
} from './_driver.js'
import { OK, type Outcome, parseJsonObject, permanent, tooLong, transient } from './_outcome.js'
import { chunkText, type PackChunk } from './_pack.js'
import { DEFAULT_LIMITS } from './_rate-limit.js'
import { utf8Bytes } from './_text.js'
import type { RelayChannelConfig } from './_types.js'

// WeCom group robot (https://developer.work.weixin.qq.com/document/path/91770): the key in the URL
// is the only secret (no signing). Limits are on the content field: markdown / markdown_v2 4096
// bytes, text 2048 bytes. Mentions: markdown `<@userid>` in the content; text mentioned_list /
// mentioned_mobile_list; markdown_v2 none.

export function classifyWecomCode(code: number, detail: string): Outcome {
  if (code === 0) return OK
  if (code === 45009 || code === 45033) return transient('throttled', detail, 60_000)
  if (code === -1) return transient('busy', detail)
  if (code === 40058 || code === 40059) return tooLong(detail)
  if (code === 93000 || code === 40013 || code === 40014 || code === 42001)
    return permanent('token', detail)
  if (code === 60020) return permanent('ip_whitelist', detail)
  return permanent('bad_request', detail)
}

type WecomType = 'markdown' | 'markdown_v2' | 'text'

export function createWecomDriver(cfg: RelayChannelConfig, deps: DriverDeps): Driver<string> {
  const type: WecomType =
    cfg.msgType === 'text' || cfg.msgType === 'markdown_v2' ? cfg.msgType : 'markdown'
  const dialect =
    type === 'markdown' ? wecomMarkdown : type === 'markdown_v2' ? wecomMarkdownV2 : plainText
  const maxBytes = cfg.maxBytes ?? (type === 'text' ? 2048 : 4096)
  const contentOf = (chunks: PackChunk[]) => {
    const text = chunks.map((c) => chunkText(c, dialect.blockSep)).join(dialect.blockSep)
    if (type !== 'markdown') return text
    const m = mentionsOf(cfg, chunks)
    const ats = [...m.userIds.map((u) => `<@${u}>`), ...(m.all ? ['<@all>'] : [])].join(' ')
    return ats ? `${text}${dialect.blockSep}${ats}` : text
  }
  const build = (chunks: PackChunk[]) => {
    const content = contentOf(chunks)
    if (type !== 'text')
      return { content, body: JSON.stringify({ msgtype: type, [type]: { content } }) }
    const m = mentionsOf(cfg, chunks)
    const text = {
      content,
      mentioned_list: [...m.userIds, ...(m.all ? ['@all'] : [])],
      mentioned_mobile_list: m.mobiles,
    }
    return { content, body: JSON.stringify({ msgtype: 'text', text }) }
  }
  return {
    dialect,
    limits: cfg.rateLimits ?? DEFAULT_LIMITS.wecom ?? [],
    compose(items) {
      const p = packWith(items, build, (b) => utf8Bytes(b.content) <= maxBytes, deps, dialect)
      return { body: p.body.body, taken: p.taken }
    },
    async send(body) {
      const r = await postJson(deps, cfg.url ?? '', body, defaultTimeoutMs(cfg))
      if (!isReply(r)) return r
      return classifyReply(r, codeOf('errcode', 'errmsg'), classifyWecomCode, parseJsonObject)
    },
  }
}
