import { appendFile } from 'node:fs/promises'
import { plainText, wecomMarkdownV2 } from './_dialects.js'
import {
  type Driver,
  type DriverDeps,
  defaultTimeoutMs,
  isReply,
  postJson,
  type QueueItem,
} from './_driver.js'
import { byHttpStatus, OK, permanent, transient } from './_outcome.js'
import { chunkText } from './_pack.js'
import { DEFAULT_LIMITS } from './_rate-limit.js'
import { renderTemplate } from './_text.js'
import type { RelayChannelConfig } from './_types.js'

// The generic webhook (the Alertmanager payload as is, or a JSON body template) and the file /
// stdout sink. One message per notification: nothing here has a size limit to split for.

function whole(items: readonly QueueItem[]) {
  const first = items[0] as QueueItem
  const text = chunkText(
    { rendered: first.rendered, continued: false, sections: first.rendered.sections },
    '\n\n',
  )
  return { item: first, text, taken: [first.rendered.sections.length - first.next] }
}

const jsonEscape = (s: string) => JSON.stringify(s).slice(1, -1)

export function createWebhookDriver(
  cfg: RelayChannelConfig,
  deps: DriverDeps,
): Driver<string | undefined> {
  return {
    dialect: plainText,
    limits: cfg.rateLimits ?? DEFAULT_LIMITS.webhook ?? [],
    compose(items) {
      const { item, text, taken } = whole(items)
      const n = item.notification
      if (!cfg.bodyTemplate) return { body: n.rawBody, taken }
      const vars = {
        title: item.rendered.title,
        text,
        status: n.status,
        severity: item.rendered.severity,
        receiver: n.receiver,
        groupKey: n.groupKey,
        externalURL: n.externalURL ?? '',
        count: String(n.alerts.length),
        json: n.rawBody.trim(),
        groupLabels: n.groupLabels,
        commonLabels: n.commonLabels,
        commonAnnotations: n.commonAnnotations,
      }
      const body = renderTemplate(cfg.bodyTemplate, vars, jsonEscape)
      try {
        JSON.parse(body)
        return { body, taken }
      } catch {
        return { body: undefined, taken }
      }
    },
    async send(body) {
      if (body === undefined)
        return permanent('bad_template', 'bodyTemplate did not render to valid JSON')
      const r = await postJson(deps, cfg.url ?? '', body, defaultTimeoutMs(cfg), cfg.headers ?? {})
      return isReply(r) ? byHttpStatus(r.status, r.text, r.retryAfter) : r
    },
  }
}

export function createFileDriver(cfg: RelayChannelConfig, deps: DriverDeps): Driver<string> {
  const dialect = cfg.msgType === 'markdown' ? wecomMarkdownV2 : plainText
  return {
    dialect,
    limits: cfg.rateLimits ?? DEFAULT_LIMITS.file ?? [],
    compose(items) {
      const { item, text, taken } = whole(items)
      const n = item.notification
      const line = cfg.msgType
        ? `${text}\n\n`
        : `${JSON.stringify({
            time: new Date(deps.now()).toISOString(),
            channel: cfg.name,
            status: n.status,
            receiver: n.receiver,
            groupKey: n.groupKey,
            title: item.rendered.title,
            alerts: n.alerts.length,
            text,
          })}\n`
      return { body: line, taken }
    },
    async send(line) {
      if (cfg.path === '-') {
        deps.writeStdout(line)
        return OK
      }
      try {
        await appendFile(cfg.path ?? '', line, 'utf8')
        return OK
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
        const detail = `cannot append to ${cfg.path}: ${code}`
        // A full or busy disk may recover (Alertmanager retries); a bad path will not.
        return ['ENOSPC', 'EIO', 'EAGAIN', 'EBUSY', 'EMFILE'].includes(code)
          ? transient('io_error', detail)
          : permanent('io_error', detail)
      }
    },
  }
}
