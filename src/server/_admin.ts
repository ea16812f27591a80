import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'
import { closeHttpServer, createLogger, type Logger, listenHttp } from '../shared/index.js'

export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>

export interface AdminRoute {
  method: string
  /** Exact path (query ignored), e.g. `/hooks/alertmanager`; a trailing `*` matches a prefix. */
  path: string
  handler: AdminHandler
  /** Answers without the admin token: the route checks what it needs itself (the dashboard's
   * page and login form, its static assets). */
  open?: boolean
}

export interface Readiness {
  ok: boolean
  /** Why not ready (shown in the 503 body). */
  reason?: string
}

export interface AdminServerOptions {
  /** Default 127.0.0.1: metrics and the hook stay on loopback unless asked. */
  host?: string
  /** Default 9464; 0 asks the OS for a free port (tests). */
  port?: number
  registry: Registry
  /** When set, every endpoint except /healthz needs `Authorization: Bearer <token>`. */
  token?: string | undefined
  routes?: readonly AdminRoute[]
  /** A credential besides the bearer header (the dashboard's session cookie). */
  accepts?: (req: IncomingMessage) => boolean
  /** /readyz: 200 when ok, else 503 with the reason. */
  ready: () => Readiness | Promise<Readiness>
  logger?: Logger
}

export interface AdminServerHandle {
  url: string
  host: string
  port: number
  /** Adds a route after start (dashboard, API). A later route with the same method+path wins. */
  mount(route: AdminRoute): void
  close(): Promise<void>
}

/** The admin server: /metrics, /healthz, /readyz and mounted routes, optionally behind a token. */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServerHandle> {
  const logger = options.logger ?? createLogger()
  const routes: AdminRoute[] = [...(options.routes ?? [])]
  const tokenDigest = options.token ? digest(options.token) : undefined

  const builtins: AdminRoute[] = [
    {
      method: 'GET',
      path: '/metrics',
      handler: async (_req, res) => {
        const text = await options.registry.metrics()
        res.writeHead(200, {
          'content-type': options.registry.contentType,
          'cache-control': 'no-store',
        })
        res.end(text)
      },
    },
    {
      method: 'GET',
      path: '/readyz',
      handler: async (_req, res) => {
        let r: Readiness
        try {
          r = await options.ready()
        } catch (err) {
          r = { ok: false, reason: err instanceof Error ? err.message : String(err) }
        }
        sendJson(
          res,
          r.ok ? 200 : 503,
          r.ok ? { status: 'ready' } : { status: 'not ready', reason: r.reason ?? 'unknown' },
        )
      },
    },
  ]

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0] as string
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET')
    // /healthz: liveness, always 200 while the process is up, never behind the token (probes).
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' })
      return
    }
    const matching = [...routes, ...builtins].filter((r) => matches(r.path, path))
    const route = matching.findLast((r) => r.method === method) ?? undefined
    if (tokenDigest && !route?.open && !authorized(req, tokenDigest) && !options.accepts?.(req)) {
      res.setHeader('www-authenticate', 'Bearer realm="inferwatch"')
      sendError(
        res,
        401,
        'unauthorized',
        'missing or wrong bearer token: send Authorization: Bearer <admin token>',
      )
      return
    }
    if (!route) {
      if (matching.length > 0) {
        res.setHeader('allow', [...new Set(matching.map((r) => r.method))].join(', '))
        sendError(res, 405, 'method_not_allowed', `${req.method} is not allowed on ${path}`)
      } else {
        sendError(res, 404, 'not_found', `no admin endpoint at ${path}`)
      }
      return
    }
    Promise.resolve()
      .then(() => route.handler(req, res))
      .catch((err: unknown) => {
        logger.error('admin handler failed', { path, err })
        if (!res.headersSent)
          sendError(res, 500, 'internal', 'the handler failed; see the inferwatch log')
        else res.destroy()
      })
  })

  const listening = await listenHttp(server, {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 9464,
    what: 'admin server',
    code: 'ADMIN_LISTEN_FAILED',
    flag: '--admin',
  })
  return {
    ...listening,
    mount(route) {
      routes.push(route)
    },
    close: () => closeHttpServer(server),
  }
}

function matches(pattern: string, path: string): boolean {
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

/** Constant-time: both sides hashed to 32 bytes, so neither content nor length leaks. */
function authorized(req: IncomingMessage, expected: Buffer): boolean {
  const header = req.headers.authorization
  const m = header ? /^Bearer\s+(.+)$/i.exec(header) : null
  const given = digest(m?.[1]?.trim() ?? '')
  return timingSafeEqual(given, expected) && m !== null
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
}

/** Same error shape as the proxy's (`{"error":{"message","type","code"}}`). */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
): void {
  sendJson(res, status, {
    error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', code },
  })
}
