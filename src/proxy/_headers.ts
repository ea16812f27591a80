import { sameLowerAscii } from '../shared/index.js'

// Hop-by-hop headers (RFC 9110 §7.6.1): Connection and every header it names, plus Proxy-Connection,
// Keep-Alive, TE, Transfer-Encoding and Upgrade. They describe one connection, so a proxy must not
// forward them. Proxy-Authenticate / Proxy-Authorization (RFC 9110 §11.7) address the next proxy,
// not the engine, so they are dropped too. Trailer is NOT hop-by-hop in RFC 9110 (it was in RFC
// 2616): it is kept, and trailers themselves are forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
])

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name.toLowerCase())
}

// Hop-by-hop names by length: any other name is kept without being looked at further,
// and these are compared without a lower-cased copy (two copies per request otherwise: most
// headers are not hop-by-hop).
const DROP_BY_LENGTH: (string[] | undefined)[] = []
for (const name of HOP_BY_HOP) {
  const same = DROP_BY_LENGTH[name.length] ?? []
  same.push(name)
  DROP_BY_LENGTH[name.length] = same
}

function isDropped(name: string, request: boolean): boolean {
  const candidates = DROP_BY_LENGTH[name.length]
  if (candidates !== undefined) {
    for (const c of candidates) if (sameLowerAscii(name, c)) return true
  }
  // A request's Host is replaced; its Expect was answered by Node's server already (it sends the
  // client `100 Continue` before the request reaches the proxy), so the engine is not asked again.
  return request && (sameLowerAscii(name, 'host') || sameLowerAscii(name, 'expect'))
}

/**
 * Copies a raw header list (`message.rawHeaders`: name, value, name, value…; casing, order and
 * repeats preserved) without hop-by-hop headers. `host`, given for a request, replaces the client's
 * Host (placed first): the engine is addressed by its own authority, like nginx's default
 * `proxy_set_header Host $proxy_host`; a request's `Expect` is dropped too.
 */
export function forwardableHeaders(raw: readonly string[], host?: string): string[] {
  // Headers that Connection names (RFC 9110 §7.6.1), beyond those dropped anyway: the usual
  // `keep-alive` names none (`close` names the reserved field Close, so it goes the long way).
  let named: Set<string> | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    if (!sameLowerAscii(name, 'connection')) continue
    const value = raw[i + 1] as string
    if (sameLowerAscii(value, 'keep-alive')) continue
    for (const token of value.split(',')) {
      const t = token.trim().toLowerCase()
      if (t) {
        named ??= new Set()
        named.add(t)
      }
    }
  }
  const replacingHost = host !== undefined
  const out: string[] = replacingHost ? ['Host', host] : []
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    if (isDropped(name, replacingHost)) continue
    if (named?.has(name.toLowerCase())) continue
    out.push(name, raw[i + 1] as string)
  }
  return out
}
