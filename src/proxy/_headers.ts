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

// The lengths of those names and of Host: any other name can be kept without lower-casing it
// first (a copy for every mixed-case name, twice per request; most headers are not hop-by-hop).
const MAY_DROP = new Uint8Array(32)
for (const name of [...HOP_BY_HOP, 'host']) MAY_DROP[name.length] = 1

/**
 * Copies a raw header list (`message.rawHeaders`: name, value, name, value…; casing, order and
 * repeats preserved) without hop-by-hop headers. `host`, when given, replaces the client's Host
 * (placed first): the engine is addressed by its own authority, like nginx's default
 * `proxy_set_header Host $proxy_host`.
 */
export function forwardableHeaders(raw: readonly string[], host?: string): string[] {
  let named: Set<string> | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    if (name.length === 10 && name.toLowerCase() === 'connection') {
      for (const token of (raw[i + 1] as string).split(',')) {
        const t = token.trim().toLowerCase()
        if (t) {
          named ??= new Set()
          named.add(t)
        }
      }
    }
  }
  const out: string[] = host === undefined ? [] : ['Host', host]
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    if (named !== undefined || MAY_DROP[name.length] === 1) {
      const lower = name.toLowerCase()
      if (HOP_BY_HOP.has(lower) || named?.has(lower)) continue
      if (host !== undefined && lower === 'host') continue
    }
    out.push(name, raw[i + 1] as string)
  }
  return out
}
