// Headers as the meter reads them: Node's `rawHeaders` list (name, value, name, value…), which the
// proxy passes as it is — reading `message.headers` makes Node build an object of every header
// (~2 µs per message, twice per request) — or a headers object with lower-case names (tests,
// other callers of the seam in src/meter/types.ts).
import type { IncomingHttpHeaders } from 'node:http'

export type HeaderSource = IncomingHttpHeaders | readonly string[]

/** `name` equals `lower` (lower-case ASCII) whatever its ASCII case: `name.toLowerCase() === lower`
 * for the token names HTTP allows, without the copy (twice or more per header list read, on every
 * request). */
export function sameLowerAscii(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false
  for (let i = 0; i < lower.length; i++) {
    let c = name.charCodeAt(i)
    if (c >= 65 && c <= 90) c += 32
    if (c !== lower.charCodeAt(i)) return false
  }
  return true
}

/** The first value of a header (`name` in lower case); undefined when absent. Node keeps the first
 * of repeated singleton headers such as Authorization too
 * (https://nodejs.org/api/http.html#messageheaders). */
export function headerValue(h: HeaderSource, name: string): string | undefined {
  if (Array.isArray(h)) {
    const raw = h as readonly string[]
    for (let i = 0; i < raw.length; i += 2) {
      const n = raw[i] as string
      if (sameLowerAscii(n, name)) return raw[i + 1]
    }
    return undefined
  }
  const v = (h as IncomingHttpHeaders)[name]
  return Array.isArray(v) ? v[0] : v
}
