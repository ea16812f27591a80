import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

// A browser cannot send `Authorization: Bearer` by itself. With adminToken set, the page's login
// form (or one visit to `/?token=…`) exchanges the token for a session cookie: HttpOnly (page
// scripts never see it), SameSite=Strict (no other site's page sends it), scoped to this admin
// port. The cookie holds an HMAC of the token, not the token, so it is useless as a bearer token.

const COOKIE_PREFIX = 'inferwatch_session_'
const SESSION_SECONDS = 12 * 3600

const digest = (s: string) => createHash('sha256').update(s).digest()

/** Constant time: both sides hashed to 32 bytes first. */
function same(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b))
}

export interface DashboardAuth {
  /** No token configured: everything is open. */
  open: boolean
  /** The request carries the bearer token or a valid session cookie. */
  accepts(req: IncomingMessage): boolean
  /** `given` is the admin token. */
  checkToken(given: string): boolean
  /** Set-Cookie value that logs this browser in on this admin port. */
  sessionCookie(req: IncomingMessage): string
}

function cookieName(req: IncomingMessage): string {
  // Cookies are per host, not per port: two admin servers on one host keep separate sessions.
  const port = /:(\d+)$/.exec(req.headers.host ?? '')?.[1] ?? 'default'
  return `${COOKIE_PREFIX}${port}`
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

export function createDashboardAuth(token: string | undefined): DashboardAuth {
  if (!token) {
    return { open: true, accepts: () => true, checkToken: () => true, sessionCookie: () => '' }
  }
  const session = createHmac('sha256', token).update('inferwatch dashboard session v1').digest()
  const sessionText = session.toString('base64url')
  return {
    open: false,
    accepts(req) {
      const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')
      if (m && same(m[1]?.trim() ?? '', token)) return true
      const cookie = readCookie(req, cookieName(req))
      return cookie !== undefined && same(cookie, sessionText)
    },
    checkToken: (given) => same(given, token),
    sessionCookie: (req) =>
      `${cookieName(req)}=${sessionText}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_SECONDS}`,
  }
}
