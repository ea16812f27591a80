import { z } from 'zod'
import {
  AppError,
  type ErrorCode,
  formatHostPort,
  type HostPort,
  redactUrl,
} from '../shared/index.js'

// Values with structure are parsed once, here, when the config (or a flag) is read; everything
// downstream takes the typed value and never re-parses or re-validates it.

/** An http(s) base URL. */
export interface HttpUrl {
  /** As WHATWG URL normalises it; keeps credentials (they may authenticate to the engine). */
  readonly href: string
  readonly protocol: 'http:' | 'https:'
  /** Host name or IP literal, IPv6 without brackets. */
  readonly hostname: string
  /** The explicit port, else 80 / 443. */
  readonly port: number
  /** `host[:port]` as written in a Host header (IPv6 in brackets). */
  readonly authority: string
  /** The path prefix without a trailing slash: `` for none, `/x` for `http://h:8000/x/`. */
  readonly basePath: string
  /** scheme://authority + basePath, without credentials: what fetch and probes get. */
  readonly base: string
  /** Credentials and query values masked, no trailing slash: for logs, labels and messages. */
  readonly label: string
}

/** Parses an http(s) base URL (no query or fragment); throws `code` naming `what`. */
export function parseHttpUrl(value: string, what: string, code: ErrorCode = 'USAGE'): HttpUrl {
  let u: URL | undefined
  try {
    u = new URL(value)
  } catch {}
  const shown = redactUrl(value)
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) {
    throw new AppError(code, `${what} must be an http(s) URL, got "${shown}"`, {
      hint: `pass a base URL, e.g. ${what} ${EXAMPLE_URL[what] ?? 'http://127.0.0.1:8000'}`,
    })
  }
  if (u.search || u.hash) {
    throw new AppError(code, `${what} "${shown}" has a query or fragment`, {
      hint: 'pass only scheme, host, port and an optional path prefix',
    })
  }
  const protocol = u.protocol
  const basePath = u.pathname.replace(/\/+$/, '')
  return {
    href: u.href,
    protocol,
    hostname: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port) || (protocol === 'https:' ? 443 : 80),
    authority: u.host,
    basePath,
    base: `${u.origin}${basePath}`,
    label: redactUrl(u.href).replace(/\/$/, ''),
  }
}

const EXAMPLE_URL: Record<string, string> = {
  '--upstream': 'http://127.0.0.1:8000',
  '--prometheus': 'http://127.0.0.1:9090',
  '--alertmanager': 'http://127.0.0.1:9093',
  '--admin': 'http://127.0.0.1:9464',
}

/** Parses `H:P`, `:P` (all interfaces) or `[::1]:P`. Port 0 asks the OS for a free one. */
export function parseHostPort(value: string, what: string, code: ErrorCode = 'USAGE'): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim())
  const port = m ? Number(m[3]) : Number.NaN
  if (!m || port > 65535) {
    throw new AppError(code, `${what} must be HOST:PORT, got "${value}"`, {
      hint: `for example ${EXAMPLE_HOST_PORT[what] ?? '127.0.0.1:8080'}`,
    })
  }
  return Object.freeze({ host: m[1] ?? (m[2] || '0.0.0.0'), port })
}

const EXAMPLE_HOST_PORT: Record<string, string> = {
  '--listen': '0.0.0.0:8080',
  '--admin': '127.0.0.1:9464',
}

/** The URL a local client uses to reach a listen address (0.0.0.0 and :: mean this host). */
export function localUrlOf({ host, port }: HostPort): string {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host
  return `http://${formatHostPort({ host: h, port })}`
}

function isHttpUrl(v: unknown): v is HttpUrl {
  return typeof v === 'object' && v !== null && typeof (v as HttpUrl).base === 'string'
}

function isHostPort(v: unknown): v is HostPort {
  return typeof v === 'object' && v !== null && typeof (v as HostPort).port === 'number'
}

/** Config key holding an http(s) URL: a string in the file, an HttpUrl from a flag already parsed. */
export function httpUrlKey(defaultUrl: string) {
  return typedKey<HttpUrl>(isHttpUrl, (s) => parseHttpUrl(s, 'URL'), 'an http(s) URL', defaultUrl)
}

/** Config key holding `host:port`: a string in the file, a HostPort from a flag already parsed. */
export function hostPortKey(defaultValue: string) {
  return typedKey<HostPort>(
    isHostPort,
    (s) => parseHostPort(s, 'address'),
    'HOST:PORT',
    defaultValue,
  )
}

function typedKey<T>(
  is: (v: unknown) => v is T,
  parse: (s: string) => T,
  expected: string,
  def: string,
) {
  return z
    .unknown()
    .transform((v, ctx): T => {
      if (is(v)) return v
      if (typeof v === 'string') {
        try {
          return parse(v)
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message })
          return z.NEVER
        }
      }
      ctx.addIssue({ code: 'custom', message: `expected ${expected}, got ${typeof v}` })
      return z.NEVER
    })
    .prefault(def)
}
