import { createHmac } from 'node:crypto'
import { feishuMarkdown, plainText, type Severity } from './_dialects.js'
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
  titleOf,
} from './_driver.js'
import { OK, type Outcome, parseJsonObject, permanent, tooLong, transient } from './_outcome.js'
import { chunkText, type PackChunk } from './_pack.js'
import { DEFAULT_LIMITS } from './_rate-limit.js'
import { utf8Bytes } from './_text.js'
import type { RelayChannelConfig } from './_types.js'

// Feishu / Lark custom bot (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot):
// interactive card (JSON 2.0) or text; body <= 20 KB; the signature goes in the JSON body, key and
// message reversed against DingTalk.

/** sign = base64(HmacSHA256(key = timestamp+"\n"+secret, msg = "")), timestamp in seconds. */
export function signFeishu(secret: string, timestampSec: number): string {
  return createHmac('sha256', `${timestampSec}\n${secret}`).update('').digest('base64')
}

export function classifyFeishuCode(code: number, detail: string): Outcome {
  if (code === 0) return OK
  if (code === 11232 || code === 99991400) return transient('throttled', detail, 1_000)
  if (code === -1) return transient('busy', detail)
  if (code === 19036) return tooLong(detail)
  if (code === 19021) return permanent('signature', detail)
  if (code === 19022) return permanent('ip_whitelist', detail)
  if (code === 19024) return permanent('keyword', detail)
  if (code === 19001 || code === 19002 || code === 99991663) return permanent('token', detail)
  return permanent('bad_request', detail)
}

/** Success: `code` 0, or the legacy `StatusCode` 0. */
function feishuCode(b: Record<string, unknown>) {
  const c = codeOf('code', 'msg')(b)
  if (c) return c
  return codeOf('StatusCode', 'StatusMessage')(b)
}

const HEADER_COLOR: Record<Severity, string> = {
  critical: 'red',
  warning: 'orange',
  info: 'blue',
  none: 'grey',
}

/** A reserve for "timestamp" and "sign", added at send time. */
const SIGN_BYTES = 120

export function createFeishuDriver(
  cfg: RelayChannelConfig,
  deps: DriverDeps,
): Driver<Record<string, unknown>> {
  const card = cfg.msgType !== 'text'
  const dialect = card ? feishuMarkdown : plainText
  const maxBytes = (cfg.maxBytes ?? 20_000) - (cfg.secret ? SIGN_BYTES : 0)
  const build = (chunks: PackChunk[]): Record<string, unknown> => {
    const m = mentionsOf(cfg, chunks)
    let text = chunks.map((c) => chunkText(c, dialect.blockSep)).join(dialect.blockSep)
    const ids = [...m.userIds, ...(m.all ? ['all'] : [])]
    if (!card) {
      const ats = ids
        .map((id) => `<at user_id="${id}">${id === 'all' ? '所有人' : ''}</at>`)
        .join(' ')
      return { msg_type: 'text', content: { text: ats ? `${text}\n${ats}` : text } }
    }
    if (ids.length) text += `${dialect.blockSep}${ids.map((id) => `<at id=${id}></at>`).join(' ')}`
    const first = chunks[0]?.rendered
    const color = first?.status === 'resolved' ? 'green' : HEADER_COLOR[first?.severity ?? 'none']
    return {
      msg_type: 'interactive',
      card: {
        schema: '2.0',
        header: { title: { tag: 'plain_text', content: titleOf(chunks) }, template: color },
        body: { elements: [{ tag: 'markdown', content: text }] },
      },
    }
  }
  return {
    dialect,
    limits: cfg.rateLimits ?? DEFAULT_LIMITS.feishu ?? [],
    compose: (items) =>
      packWith(items, build, (b) => utf8Bytes(JSON.stringify(b)) <= maxBytes, deps, dialect),
    async send(message) {
      let body = message
      if (cfg.secret) {
        const ts = Math.floor(deps.now() / 1000)
        body = { timestamp: String(ts), sign: signFeishu(cfg.secret, ts), ...message }
      }
      const r = await postJson(deps, cfg.url ?? '', JSON.stringify(body), defaultTimeoutMs(cfg))
      if (!isReply(r)) return r
      return classifyReply(r, feishuCode, classifyFeishuCode, parseJsonObject)
    },
  }
}
