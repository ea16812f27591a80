// What a chat API's reply means (README: Alert relay, "What success and failure mean"). Success is
// judged from the body (`errcode` / `code`), never from the HTTP status alone: DingTalk answers
// errors with HTTP 200.

export type FailureReason =
  | 'throttled'
  | 'busy'
  | 'server_error'
  | 'network'
  | 'timeout'
  | 'too_long'
  | 'signature'
  | 'keyword'
  | 'token'
  | 'ip_whitelist'
  | 'bad_request'
  | 'bad_template'
  | 'io_error'
  | 'unknown'

export type Outcome =
  | { ok: true }
  | {
      ok: false
      /** transient: retry (and answer 5xx if it keeps failing); permanent: config, log and count. */
      kind: 'transient' | 'permanent' | 'too_long'
      reason: FailureReason
      /** The API's own words (errcode + errmsg, or status + body), never the URL. */
      detail: string
      retryAfterMs?: number
    }

export const OK: Outcome = { ok: true }

export function transient(reason: FailureReason, detail: string, retryAfterMs?: number): Outcome {
  return retryAfterMs === undefined
    ? { ok: false, kind: 'transient', reason, detail }
    : { ok: false, kind: 'transient', reason, detail, retryAfterMs }
}

export function permanent(reason: FailureReason, detail: string): Outcome {
  return { ok: false, kind: 'permanent', reason, detail }
}

export function tooLong(detail: string): Outcome {
  return { ok: false, kind: 'too_long', reason: 'too_long', detail }
}

/** What to do about a permanent failure: said once, loudly, in the log. */
export const FIX: Partial<Record<FailureReason, string>> = {
  signature:
    'the signing secret does not match the robot: copy it again into channels[].secret (DingTalk 加签 secrets start with SEC) and check this host clock (within 1 h)',
  keyword:
    'the robot requires a security keyword: put one of its keywords in channels[].keywords (the relay writes it into every message)',
  token:
    'the robot token / key / hook id is wrong, or the robot was removed: copy the webhook URL again into channels[].url',
  ip_whitelist:
    "add this host's public egress IP to the robot's IP whitelist, or use signing instead",
  bad_request:
    'the API rejected the message format: check channels[].msgType / template, and report it if the defaults fail',
  bad_template:
    'channels[].bodyTemplate does not render to valid JSON: check its quotes and placeholders',
  too_long: 'lower channels[].maxBytes so messages are split smaller',
  io_error: 'check that channels[].path is writable',
  unknown: 'check the channel URL and the API reply in this line',
}

/** Parses JSON without trusting it: undefined when it is not a JSON object. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text)
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** A reply without a recognisable body: judged by HTTP status. */
export function byHttpStatus(status: number, body: string, retryAfter: string | null): Outcome {
  const detail = `HTTP ${status} ${body.slice(0, 200)}`.trim()
  if (status >= 200 && status < 300) return OK
  if (status === 429) return transient('throttled', detail, parseRetryAfter(retryAfter))
  if (status === 408) return transient('timeout', detail)
  if (status >= 500) return transient('server_error', detail)
  if (status === 401 || status === 403 || status === 404 || status === 410)
    return permanent('token', detail)
  if (status === 413) return tooLong(detail)
  return permanent('bad_request', detail)
}

export function parseRetryAfter(v: string | null): number | undefined {
  if (!v) return undefined
  const s = Number(v)
  // Seconds only; the HTTP-date form falls back to our own backoff.
  return Number.isFinite(s) && s >= 0 ? s * 1000 : undefined
}
