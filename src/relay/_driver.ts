import type { Dialect } from './_dialects.js'
import { byHttpStatus, type Outcome, transient } from './_outcome.js'
import { type PackChunk, type Packed, type PackSource, packMessage } from './_pack.js'
import type { Notification } from './_payload.js'
import type { RateLimit } from './_rate-limit.js'
import type { RelayChannelConfig } from './_types.js'

// The seam between the delivery queue and one chat API: compose the next message from the queue
// front, send it, say what the reply means.

export interface QueueItem extends PackSource {
  notification: Notification
}

export interface Driver<C = unknown> {
  dialect: Dialect
  limits: readonly RateLimit[]
  compose(items: readonly QueueItem[]): Packed<C>
  send(message: C): Promise<Outcome>
}

export type FetchFn = typeof fetch

export interface DriverDeps {
  fetch: FetchFn
  /** Epoch milliseconds (signatures carry the time). */
  now: () => number
  marker: string
  writeStdout: (text: string) => void
  /** Aborted when the relay shuts down: in-flight requests end at once. */
  signal: AbortSignal
}

export interface HttpReply {
  status: number
  text: string
  retryAfter: string | null
}

/** POSTs JSON; a network failure or timeout comes back as a transient Outcome. */
export async function postJson(
  deps: Pick<DriverDeps, 'fetch' | 'signal'>,
  url: string,
  body: string,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<HttpReply | Outcome> {
  try {
    const res = await deps.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      body,
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), deps.signal]),
    })
    const text = await res.text()
    return { status: res.status, text, retryAfter: res.headers.get('retry-after') }
  } catch (err) {
    const e = err as Error
    if (e.name === 'TimeoutError') return transient('timeout', `no reply within ${timeoutMs} ms`)
    // The cause names the host and errno, not the URL's query (no token).
    const cause = (e.cause as { code?: string } | undefined)?.code ?? e.message
    return transient('network', `network error: ${cause}`)
  }
}

export function isReply(r: HttpReply | Outcome): r is HttpReply {
  return 'status' in r
}

/** Chat APIs: errors arrive with HTTP 200 and a code in the body (README: Alert relay). */
export function classifyReply(
  r: HttpReply,
  codeOf: (body: Record<string, unknown>) => { code: number; msg: string } | undefined,
  byCode: (code: number, detail: string, msg: string) => Outcome,
  parse: (text: string) => Record<string, unknown> | undefined,
): Outcome {
  const body = parse(r.text)
  const c = body ? codeOf(body) : undefined
  if (!c) {
    // No recognisable reply: a proxy's HTML page, an empty body... 2xx without a code is not
    // proof of delivery; treat it as transient so Alertmanager retries.
    if (r.status >= 200 && r.status < 300) {
      return transient('unknown', `HTTP ${r.status} without a result code: ${r.text.slice(0, 200)}`)
    }
    return byHttpStatus(r.status, r.text, r.retryAfter)
  }
  return byCode(c.code, `code ${c.code}: ${c.msg}`.slice(0, 500), c.msg)
}

export function packWith<B>(
  items: readonly QueueItem[],
  build: (chunks: PackChunk[]) => B,
  fits: (b: B) => boolean,
  deps: DriverDeps,
  dialect: Dialect,
): Packed<B> {
  return packMessage(items, build, fits, deps.marker, dialect.blockSep)
}

export function defaultTimeoutMs(cfg: RelayChannelConfig): number {
  return cfg.timeoutMs ?? 10_000
}

export function mentionsOf(cfg: RelayChannelConfig, chunks: readonly PackChunk[]) {
  const firing = chunks.some((c) => c.rendered.status === 'firing')
  const m = cfg.mentions
  return {
    mobiles: firing && m ? m.mobiles : [],
    userIds: firing && m ? m.userIds : [],
    all: firing && m ? m.all : false,
  }
}

export function titleOf(chunks: readonly PackChunk[]): string {
  const first = chunks[0]?.rendered.title ?? 'alert'
  return chunks.length > 1 ? `${first} (+${chunks.length - 1})` : first
}
