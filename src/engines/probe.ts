// One HTTP request with a timeout and a body cap, whose failure is a value, not an exception:
// discovery and doctor look at many endpoints at once and explain each outcome.

export type FetchFn = typeof globalThis.fetch

export type ProbeFailure = 'refused' | 'timeout' | 'reset' | 'dns' | 'too_large' | 'other'

export type ProbeResult =
  | { ok: true; status: number; body: string; contentType: string; elapsedMs: number }
  | { ok: false; failure: ProbeFailure; message: string; elapsedMs: number }

export interface ProbeOptions {
  fetch?: FetchFn
  timeoutMs?: number
  maxBodyBytes?: number
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** Clock for elapsedMs (performance.now by default). */
  nowMs?: () => number
}

const DEFAULT_TIMEOUT_MS = 3000
const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024

/** GETs (or POSTs) `url`; never throws. A response of any status is `ok: true`. */
export async function probeUrl(url: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const doFetch = options.fetch ?? globalThis.fetch
  const now = options.nowMs ?? (() => performance.now())
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const started = now()
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new ProbeTimeout()), timeoutMs)
  try {
    const res = await doFetch(url, {
      method: options.method ?? 'GET',
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.body !== undefined ? { body: options.body } : {}),
      signal: controller.signal,
      redirect: 'manual',
    })
    const body = await readCapped(res, maxBytes)
    if (body === undefined) {
      controller.abort()
      return {
        ok: false,
        failure: 'too_large',
        message: `body larger than ${maxBytes} bytes`,
        elapsedMs: now() - started,
      }
    }
    return {
      ok: true,
      status: res.status,
      body,
      contentType: res.headers.get('content-type') ?? '',
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
  }
}

class ProbeTimeout extends Error {
  constructor() {
    super('timeout')
    this.name = 'ProbeTimeout'
  }
}

async function readCapped(res: Response, maxBytes: number): Promise<string | undefined> {
  if (!res.body) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel().catch(() => {})
      return undefined
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    if (typeof e === 'object' && 'code' in e && typeof e.code === 'string') return e.code
    e = typeof e === 'object' && 'cause' in e ? e.cause : undefined
  }
  return undefined
}

function classifyFetchError(err: unknown, signal: AbortSignal): ProbeFailure {
  if (signal.aborted && signal.reason instanceof ProbeTimeout) return 'timeout'
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
    default: {
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
