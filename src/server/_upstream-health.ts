import { joinUrl, type ProbeLimiter, type ProbeResult, probeUrl } from '../engines/index.js'
import type { Readiness } from './_admin.js'

// Liveness of the engine: vLLM, TGI, SGLang and llama.cpp all answer GET /health (200 when
// serving; 503 while loading or dead; API docs listed in src/engines/_schemas.ts). Generic
// OpenAI-compatible servers may have no /health: on 404/405 we fall back to GET /v1/models.
//
// "Down" needs evidence: a refused connection, an answer that is not 2xx, or
// TIMEOUTS_BEFORE_DOWN probes in a row without an answer. One unanswered probe is none:
// llama.cpp accepts connections while all its HTTP threads are busy and answers once one frees,
// and an idle keep-alive connection of any client holds a thread for up to 5 s (the links in
// src/engines/probe.ts).

/** Consecutive probes without an answer (timeout, reset) before the engine counts as down. */
export const TIMEOUTS_BEFORE_DOWN = 3

export interface UpstreamHealthOptions {
  baseUrl: string
  /** As the upstream may be shown (redacted). */
  label: string
  fetch?: typeof globalThis.fetch
  timeoutMs?: number
  /** Shared with discovery, so that together they stay within what the engine serves. */
  limiter?: ProbeLimiter
  /** Aborts a probe in flight (the watch is closing); the verdict then stays as it was. */
  signal?: AbortSignal
}

export interface UpstreamHealth {
  /** Probes now, or joins the probe in flight; the verdict is also remembered as `last`. */
  check(): Promise<Readiness>
  last(): Readiness | undefined
}

export function createUpstreamHealth(options: UpstreamHealthOptions): UpstreamHealth {
  const { label } = options
  let path = '/health'
  let last: Readiness | undefined
  let unanswered = 0
  let inFlight: Promise<Readiness> | undefined
  const probe = (p: string) =>
    probeUrl(joinUrl(options.baseUrl, p), {
      timeoutMs: options.timeoutMs ?? 2000,
      maxBodyBytes: 64 * 1024,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.limiter ? { limiter: options.limiter } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    })

  const judge = (r: ProbeResult): Readiness => {
    if (!r.ok && r.failure === 'aborted')
      return last ?? { ok: false, reason: `upstream ${label}: not probed yet` }
    if (!r.ok && (r.failure === 'timeout' || r.failure === 'reset')) {
      unanswered++
      if (last && unanswered < TIMEOUTS_BEFORE_DOWN) return last
      const streak = unanswered > 1 ? ` (${unanswered} probes in a row)` : ''
      last = { ok: false, reason: `upstream ${label} ${r.failure}: ${r.message}${streak}` }
      return last
    }
    unanswered = 0
    if (!r.ok) {
      last = { ok: false, reason: `upstream ${label} ${r.failure}: ${r.message}` }
    } else if (r.status >= 200 && r.status < 300) {
      last = { ok: true }
    } else {
      last = {
        ok: false,
        reason: `upstream ${label}${path} answered HTTP ${r.status}${r.body ? `: ${r.body.slice(0, 200)}` : ''}`,
      }
    }
    return last
  }

  const once = async (): Promise<Readiness> => {
    let r = await probe(path)
    if (r.ok && (r.status === 404 || r.status === 405) && path === '/health') {
      const alt = await probe('/v1/models')
      if (alt.ok && alt.status < 400) path = '/v1/models'
      r = alt
    }
    return judge(r)
  }

  const check = (): Promise<Readiness> => {
    inFlight ??= once().finally(() => {
      inFlight = undefined
    })
    return inFlight
  }
  return { check, last: () => last }
}
