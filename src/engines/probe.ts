// One HTTP request with a timeout and a body cap, whose failure is a value, not an exception:
// discovery and doctor look at many endpoints and explain each outcome.
//
// Probes must not tie up a small engine. llama.cpp's server (cpp-httplib) serves each connection
// on one of `--threads-http` threads until the connection closes, and keeps an idle keep-alive
// connection open 5 s (https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md,
// https://github.com/yhirose/cpp-httplib/blob/master/httplib.h CPPHTTPLIB_KEEPALIVE_TIMEOUT_SECOND):
// a pooled idle connection holds a thread that real clients wait for. So every probe has a
// socket of its own, sends `Connection: close` (RFC 9112 §9.6) and closes it after the answer
// (_transport.ts), and callers bound how many run at once with a ProbeLimiter.

import { tlsFailureHint } from '../shared/index.js'
import { type Sent, sendWithFetch, sendWithNodeHttp } from './_transport.js'

export type FetchFn = typeof globalThis.fetch

export type ProbeFailure =
  | 'refused'
  | 'timeout'
  | 'reset'
  | 'dns'
  | 'too_large'
  | 'aborted'
  | 'other'

export type ProbeResult =
  | { ok: true; status: number; body: string; contentType: string; elapsedMs: number }
  | { ok: false; failure: ProbeFailure; message: string; elapsedMs: number }

export interface ProbeOptions {
  /** Sends through this fetch instead of node:http (tests; a caller's own dispatcher). */
  fetch?: FetchFn
  timeoutMs?: number
  maxBodyBytes?: number
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** Clock for elapsedMs (performance.now by default). */
  nowMs?: () => number
  /** Aborts the probe (failure `aborted`), e.g. when its owner closes. */
  signal?: AbortSignal
  /** Waits for a free slot before sending (the timeout starts once sent). */
  limiter?: ProbeLimiter
}

/** Bounds how many probes run at once (shared by everything that watches one engine). */
export interface ProbeLimiter {
  /** Runs `task` once fewer than `maxInFlight` tasks of this limiter run. */
  run<T>(task: () => Promise<T>): Promise<T>
  inFlight(): number
}

export function createProbeLimiter(maxInFlight: number): ProbeLimiter {
  let running = 0
  const waiting: (() => void)[] = []
  return {
    async run(task) {
      if (running < maxInFlight) running++
      // A finishing task hands its slot straight to the next waiter.
      else await new Promise<void>((resolve) => waiting.push(resolve))
      try {
        return await task()
      } finally {
        const next = waiting.shift()
        if (next) next()
        else running--
      }
    },
    inFlight: () => running,
  }
}

const DEFAULT_TIMEOUT_MS = 3000
const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024

/** GETs (or POSTs) `url`; never throws. A response of any status is `ok: true`. */
export function probeUrl(url: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const { limiter } = options
  return limiter ? limiter.run(() => probeOnce(url, options)) : probeOnce(url, options)
}

async function probeOnce(url: string, options: ProbeOptions): Promise<ProbeResult> {
  const now = options.nowMs ?? (() => performance.now())
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const started = now()
  const outer = options.signal
  if (outer?.aborted)
    return { ok: false, failure: 'aborted', message: 'aborted before it was sent', elapsedMs: 0 }
  const controller = new AbortController()
  const onAbort = () => controller.abort(outer?.reason)
  outer?.addEventListener('abort', onAbort, { once: true })
  const timer = setTimeout(() => controller.abort(new ProbeTimeout()), timeoutMs)
  const sent: Sent = {
    method: options.method ?? 'GET',
    headers: { connection: 'close', ...options.headers },
    ...(options.body !== undefined ? { body: options.body } : {}),
    signal: controller.signal,
    maxBodyBytes,
  }
  try {
    const res = options.fetch
      ? await sendWithFetch(options.fetch, url, sent)
      : await sendWithNodeHttp(url, sent)
    if (res.body === undefined) {
      controller.abort()
      return {
        ok: false,
        failure: 'too_large',
        message: `body larger than ${maxBodyBytes} bytes`,
        elapsedMs: now() - started,
      }
    }
    return {
      ok: true,
      status: res.status,
      body: res.body,
      contentType: res.contentType,
      elapsedMs: now() - started,
    }
  } catch (err) {
    const failure = classifyFetchError(err, controller.signal)
    return {
      ok: false,
      failure,
      message: describeFailure(failure, err, timeoutMs),
      elapsedMs: now() - started,
    }
  } finally {
    clearTimeout(timer)
    outer?.removeEventListener('abort', onAbort)
  }
}

class ProbeTimeout extends Error {
  constructor() {
    super('timeout')
    this.name = 'ProbeTimeout'
  }
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    if (typeof e === 'object' && 'code' in e && typeof e.code === 'string') return e.code
    e = typeof e === 'object' && 'cause' in e ? e.cause : undefined
  }
  return undefined
}

function classifyFetchError(err: unknown, signal: AbortSignal): ProbeFailure {
  if (signal.aborted) return signal.reason instanceof ProbeTimeout ? 'timeout' : 'aborted'
  const code = errorCode(err)
  if (code === 'ECONNREFUSED') return 'refused'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns'
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout'
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return 'reset'
  return 'other'
}

function describeFailure(failure: ProbeFailure, err: unknown, timeoutMs: number): string {
  switch (failure) {
    case 'refused':
      return 'connection refused (nothing listens on that port)'
    case 'timeout':
      return `no answer within ${timeoutMs} ms`
    case 'dns':
      return 'the host name does not resolve'
    case 'reset':
      return 'the connection was closed before a full response'
    case 'aborted':
      return 'aborted (the probe was cancelled)'
    default: {
      const tls = tlsFailureHint(errorCode(err))
      if (tls !== undefined) return tls
      const cause =
        err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : ''
      return `${err instanceof Error ? err.message : String(err)}${cause}`
    }
  }
}

/** Joins a base URL and an absolute path, keeping any path prefix of the base (`/v1` proxies). */
export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`
}
