// Who sent an exchange (README: Metrics, "Who sends what"): the configured header, else the body's
// OpenAI `user` field, else a short hash of the bearer token (never the token), named through the
// aliases and bounded to maxClients values (the rest `other`; `anonymous` when nothing says).
// Worked out when the exchange is recorded, after the last byte was forwarded: never on the path.
import { createHash } from 'node:crypto'
import type { Registry } from 'prom-client'
import { type HeaderSource, headerValue } from '../shared/index.js'
import { FastCounter } from './_counter.js'
import type { ContextClass, ErrorType } from './types.js'

export interface AttributionOptions {
  /** Lower-case request header naming the client (e.g. x-app-name); none by default. */
  header?: string | undefined
  /** Raw value -> name shown in the `client` label. */
  aliases?: Readonly<Record<string, string>>
  /** Distinct unaliased client values kept (default 20); later ones are `other`. */
  maxClients?: number
}

export const ANONYMOUS = 'anonymous'
export const OTHER = 'other'
/** Longer values are cut: a label value is for reading on a dashboard, not for storing ids. */
const MAX_CLIENT_CHARS = 64
const BEARER = /^bearer\s+(\S+)\s*$/i

/** `key-` and the first 8 hex digits of the token's SHA-256: names a key, cannot be reversed. */
export function bearerClientId(token: string): string {
  return `key-${createHash('sha256').update(token).digest('hex').slice(0, 8)}`
}

export interface ClientNamer {
  /** The bounded `client` label for an exchange's headers and body `user` field. */
  clientOf(headers: HeaderSource, user: string | undefined): string
}

/** Hashing costs ~5 µs; a client reuses its key, so the last ids are kept (bounded, then cleared). */
const HASH_CACHE_ENTRIES = 256

function rawClient(
  headers: HeaderSource,
  user: string | undefined,
  header: string | undefined,
  hashes: Map<string, string>,
): string | undefined {
  if (header !== undefined) {
    const v = headerValue(headers, header)?.trim()
    if (v) return v
  }
  const u = user?.trim()
  if (u) return u
  const auth = headerValue(headers, 'authorization')
  if (auth === undefined) return undefined
  // Keyed by the whole header: a client's repeat costs one lookup, no regex and no hash.
  let id = hashes.get(auth)
  if (id === undefined) {
    const token = BEARER.exec(auth)?.[1]
    id = token ? bearerClientId(token) : ''
    if (hashes.size >= HASH_CACHE_ENTRIES) hashes.clear()
    hashes.set(auth, id)
  }
  return id === '' ? undefined : id
}

export function createClientNamer(options: AttributionOptions = {}): ClientNamer {
  const aliases = new Map(Object.entries(options.aliases ?? {}))
  const maxClients = options.maxClients ?? 20
  const kept = new Set<string>()
  const hashes = new Map<string, string>()
  return {
    clientOf(headers, user) {
      const raw = rawClient(headers, user, options.header, hashes)
      if (raw === undefined) return ANONYMOUS
      // A configured alias is a name the operator chose: always kept, never counted as `other`.
      const alias = aliases.get(raw)
      if (alias !== undefined) return alias
      const name = raw.slice(0, MAX_CLIENT_CHARS)
      if (kept.has(name)) return name
      if (kept.size >= maxClients) return OTHER
      kept.add(name)
      return name
    },
  }
}

export interface ClientMetrics {
  requests: FastCounter<'client' | 'context_class' | 'error_type'>
  tokens: FastCounter<'client' | 'gen_ai_token_type'>
}

export function registerClientMetrics(
  registry: Registry,
  /** Runs before either counter is read (the meter's queued hooks). */
  beforeRead: () => void = () => {},
): ClientMetrics {
  return {
    requests: new FastCounter(
      'inferwatch_client_requests_total',
      'LLM requests by client (attribution header, body user field or bearer-key hash; bounded), context class and error type.',
      ['client', 'context_class', 'error_type'],
      registry,
      beforeRead,
    ),
    tokens: new FastCounter(
      'inferwatch_client_tokens_total',
      'Tokens of successful LLM requests by client: input (prompt) and output.',
      ['client', 'gen_ai_token_type'],
      registry,
      beforeRead,
    ),
  }
}

/** One exchange into the client counters (tokens of successes only, as gen_ai_client_token_usage). */
export function recordClient(
  m: ClientMetrics,
  client: string,
  contextClass: ContextClass,
  errorType: ErrorType,
  promptTokens: number | undefined,
  outputTokens: number | undefined,
): void {
  m.requests.inc({ client, context_class: contextClass, error_type: errorType })
  if (errorType !== '') return
  if (promptTokens !== undefined) m.tokens.inc({ client, gen_ai_token_type: 'input' }, promptTokens)
  if (outputTokens !== undefined)
    m.tokens.inc({ client, gen_ai_token_type: 'output' }, outputTokens)
}
