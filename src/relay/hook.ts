import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { setTimeout as delay } from 'node:timers/promises'
import type { Registry } from 'prom-client'
import { AppError, isAppError, type Logger } from '../shared/index.js'
import { createChannels, type RelayChannel } from './_channels.js'
import type { FetchFn } from './_driver.js'
import { createRelayMetrics } from './_metrics.js'
import { parseAlertmanagerPayload } from './_payload.js'
import type { DeliveryResult, SleepFn } from './_queue.js'
import { dedupeKey, routeNotification } from './_routing.js'
import type { RelayConfig } from './_types.js'

// POST /hooks/alertmanager. The answer is what Alertmanager acts on (its retrier,
// https://github.com/prometheus/alertmanager/blob/main/notify/util.go): 2xx = done (delivered, or
// permanently undeliverable by config: logged and counted), 5xx = retry (the chat API is failing or
// still throttled), 400 = a body that can never succeed.

export interface AlertmanagerHookOptions {
  config: RelayConfig
  registry: Registry
  logger: Logger
  fetch?: FetchFn
  /** Epoch milliseconds. */
  now?: () => number
  /** Backoff and rate-limit waits; tests pass one that advances a fake clock. */
  sleep?: SleepFn
  /** Where `type: file, path: "-"` writes. */
  writeStdout?: (text: string) => void
}

export type ChannelOutcome = DeliveryResult['status'] | 'duplicate' | 'skipped' | 'pending'

export interface HookReply {
  httpStatus: number
  body: {
    status?: 'ok'
    channels?: Record<string, ChannelOutcome>
    /** Parts of the body that could not be read and were left out ("alerts[2] is not an object"). */
    dropped?: string[]
    error?: { code: string; message: string; hint?: string | undefined }
  }
}

export interface AlertmanagerHook {
  /** Reads the body itself (capped at relay.maxBodyBytes). */
  handler(req: IncomingMessage, res: ServerResponse): void
  /** The same without HTTP: a raw webhook body in, the reply the handler would send out. */
  deliver(body: string): Promise<HookReply>
  close(): Promise<void>
}

type DedupeEntry =
  | { pending: Promise<DeliveryResult> }
  | { doneAtMs: number }
  /** A split notification failed after `sentSections` alerts went out: the retry resumes there. */
  | { resumeFrom: number; atMs: number }

const defaultSleep: SleepFn = (ms, signal) => delay(ms, undefined, { signal })

export function createAlertmanagerHook(options: AlertmanagerHookOptions): AlertmanagerHook {
  const { config, logger } = options
  const now = options.now ?? Date.now
  const metrics = createRelayMetrics(options.registry)
  const channels = createChannels(config, {
    fetch: options.fetch ?? fetch,
    now,
    sleep: options.sleep ?? defaultSleep,
    logger,
    metrics,
    writeStdout: options.writeStdout ?? (() => {}),
  })
  const seen = new Map<string, Map<string, DedupeEntry>>()

  const sendTo = (ch: RelayChannel, n: ReturnType<typeof parseAlertmanagerPayload>) => {
    const routed = routeNotification(n, ch.config, ch.matches)
    if (!routed) return 'skipped' as const
    const entries = seen.get(ch.name) ?? new Map<string, DedupeEntry>()
    seen.set(ch.name, entries)
    for (const [k, e] of entries) {
      const at = 'doneAtMs' in e ? e.doneAtMs : 'atMs' in e ? e.atMs : undefined
      if (at !== undefined && now() - at >= config.dedupeWindowMs) entries.delete(k)
    }
    const key = dedupeKey(routed)
    const entry = entries.get(key)
    if (entry && 'doneAtMs' in entry) {
      ch.metrics.notifications.inc({ channel: ch.name, status: 'duplicate' })
      return 'duplicate' as const
    }
    if (entry && 'pending' in entry) return entry.pending
    const startAt = entry && 'resumeFrom' in entry ? entry.resumeFrom : 0
    let rendered: ReturnType<RelayChannel['render']>
    try {
      rendered = ch.render(routed, new Date(now()))
    } catch (err) {
      // The same body fails the same way every time: a 5xx would make Alertmanager retry it
      // forever. Dropped for this channel, said in the log and the reply, counted as rejected.
      logger.error('relay: a notification cannot be rendered for this channel; it is dropped', {
        channel: ch.name,
        groupKey: n.groupKey,
        error: err,
      })
      ch.metrics.notifications.inc({ channel: ch.name, status: 'rejected' })
      return 'rejected' as const
    }
    const pending = ch.queue.enqueue(routed, rendered, startAt)
    entries.set(key, { pending })
    void pending.then((r) => {
      if (r.status !== 'failed') entries.set(key, { doneAtMs: now() })
      else if (r.sentSections) entries.set(key, { resumeFrom: r.sentSections, atMs: now() })
      else entries.delete(key)
    })
    return pending
  }

  const deliver = async (body: string): Promise<HookReply> => {
    let n: ReturnType<typeof parseAlertmanagerPayload>
    try {
      n = parseAlertmanagerPayload(body, new Date(now()))
    } catch (err) {
      if (!isAppError(err)) throw err
      logger.warn('relay: rejected a webhook body', { error: err.message })
      return errorReply(400, err)
    }
    if (n.dropped.length > 0) {
      logger.warn('relay: parts of a webhook body cannot be read; the rest is delivered', {
        groupKey: n.groupKey,
        dropped: n.dropped,
      })
    }
    const dropped = n.dropped.length > 0 ? { dropped: [...n.dropped] } : {}
    if (channels.length === 0) {
      // Said when it matters (an alert arrived), not at every start of a proxy without a relay.
      logger.warn('relay: an alert arrived but no channels are configured; it is dropped', {
        alertname: n.commonLabels.alertname ?? '',
        hint: 'add relay.channels (dingtalk, wecom, feishu, slack, webhook or file) to inferwatch.yaml',
      })
    }
    const results: Record<string, ChannelOutcome> = {}
    const waits: Promise<void>[] = []
    for (const ch of channels) {
      const r = sendTo(ch, n)
      if (typeof r === 'string') results[ch.name] = r
      else {
        results[ch.name] = 'pending'
        waits.push(
          r.then((x) => {
            results[ch.name] = x.status
          }),
        )
      }
    }
    const timer = new AbortController()
    await Promise.race([
      Promise.all(waits),
      delay(config.hookTimeoutMs, undefined, { signal: timer.signal }).catch(() => {}),
    ])
    timer.abort()
    const retry = Object.values(results).some((s) => s === 'failed' || s === 'pending')
    logger.info('relay: notification', {
      receiver: n.receiver,
      status: n.status,
      alerts: n.alerts.length,
      groupKey: n.groupKey,
      channels: results,
    })
    if (retry) {
      const err = new AppError(
        'RELAY_DELIVERY_FAILED',
        `not delivered yet: ${JSON.stringify(results)}`,
        {
          hint: 'Alertmanager retries this notification; a pending delivery is joined, not repeated',
        },
      )
      const reply = errorReply(503, err)
      return { ...reply, body: { ...reply.body, channels: { ...results }, ...dropped } }
    }
    return { httpStatus: 200, body: { status: 'ok', channels: { ...results }, ...dropped } }
  }

  const tokenOk = (req: IncomingMessage) => {
    if (!config.hookToken) return true
    const got = Buffer.from(req.headers.authorization ?? '')
    const want = Buffer.from(`Bearer ${config.hookToken}`)
    return got.length === want.length && timingSafeEqual(got, want)
  }

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST')
      send(
        res,
        errorReply(405, new AppError('USAGE', 'use POST', { hint: 'Alertmanager POSTs here' })),
      )
      req.resume()
      return
    }
    if (!tokenOk(req)) {
      const err = new AppError('USAGE', 'missing or wrong bearer token', {
        hint: "set http_config.authorization { type: Bearer, credentials: <relay.hookToken> } in Alertmanager's webhook_config",
      })
      send(res, errorReply(401, err))
      req.resume()
      return
    }
    readBody(req, config.maxBodyBytes).then(
      (body) =>
        body === undefined
          ? send(
              res,
              errorReply(
                413,
                new AppError('RELAY_PAYLOAD_INVALID', `body over ${config.maxBodyBytes} bytes`, {
                  hint: 'lower max_alerts in the webhook_config or raise relay.maxBodyBytes',
                }),
              ),
            )
          : deliver(body).then(
              (r) => send(res, r),
              (err) => {
                logger.error('relay: internal error', { error: err })
                send(res, errorReply(500, new AppError('INTERNAL', String(err))))
              },
            ),
      () => res.destroy(),
    )
  }

  return {
    handler,
    deliver,
    async close() {
      await Promise.all(channels.map((c) => c.queue.close()))
    },
  }
}

function errorReply(httpStatus: number, err: AppError): HookReply {
  return { httpStatus, body: { error: { code: err.code, message: err.message, hint: err.hint } } }
}

function send(res: ServerResponse, reply: HookReply): void {
  if (res.headersSent) return
  const text = JSON.stringify(reply.body)
  res.writeHead(reply.httpStatus, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

/** The body as UTF-8, or undefined when it is over the cap (the rest is not read). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > maxBytes) {
      req.resume()
      resolve(undefined)
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > maxBytes) {
        req.removeAllListeners('data')
        req.resume()
        resolve(undefined)
        return
      }
      chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}
