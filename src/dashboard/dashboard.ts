import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'
import type { Config } from '../config/index.js'
import { createLogger, type Logger, redactUrl } from '../shared/index.js'
import { loadAssets, sendBody, serveAsset } from './_assets.js'
import { createDashboardAuth } from './_auth.js'
import { answersLocally, evaluateInstant, evaluateRange } from './_local-eval.js'
import { renderLoginPage, renderPage } from './_page.js'
import {
  BadQuery,
  createPrometheusClient,
  PrometheusError,
  parseQueryRequest,
  type QueryRequest,
} from './_prometheus.js'
import { allowedQueries, buildDashboardSpec, isDashboardAlert } from './_queries.js'
import { LOCAL_WINDOW_SECONDS, type LocalSampler, startLocalSampler } from './_sampler.js'
import { type Lang, pickLanguage } from './client/i18n.js'

/** Same shape as the admin server's routes; `open` ones answer without the admin token. */
export interface DashboardRoute {
  method: string
  path: string
  open?: boolean
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>
}

export interface DashboardOptions {
  config: Readonly<Config>
  /** The process's own registry: the in-memory fallback reads it. */
  registry: Registry
  logger?: Logger
  fetch?: typeof globalThis.fetch
  /** Unix milliseconds (tests). */
  now?: () => number
  /** How often the fallback samples the registry (default: dashboard.localSampleIntervalMs). */
  sampleIntervalMs?: number
}

export interface Dashboard {
  routes: DashboardRoute[]
  /** The request carries the admin token or the dashboard's session cookie. */
  accepts(req: IncomingMessage): boolean
  close(): Promise<void>
}

type Source = 'prometheus' | 'local'
const SOURCE_HEADER = 'x-inferwatch-source'
/** How long a Prometheus readiness answer is trusted (source: auto). */
const PROBE_TTL_MS = 10_000

function sendJson(res: ServerResponse, status: number, value: unknown, source?: Source): void {
  const body = JSON.stringify(value)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...(source ? { [SOURCE_HEADER]: source } : {}),
  })
  res.end(body)
}

/** Prometheus's own error shape, so API clients need one parser. */
const badData = (res: ServerResponse, status: number, error: string, type = 'bad_data') =>
  sendJson(res, status, { status: 'error', errorType: type, error })

function acceptLanguage(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';')
      const q = Number(/q=([\d.]+)/.exec(params.join(';'))?.[1] ?? '1')
      return { tag, q: Number.isFinite(q) ? q : 0, i }
    })
    .filter((x) => x.tag && x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i)
    .map((x) => x.tag)
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  const m = new RegExp(`(?:^|;\\s*)${name}=([^;]*)`).exec(req.headers.cookie ?? '')
  return m?.[1]
}

async function readForm(req: IncomingMessage, maxBytes: number): Promise<URLSearchParams> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > maxBytes) throw new BadQuery(`the form is larger than ${maxBytes} bytes`)
    chunks.push(chunk as Buffer)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

/**
 * The admin dashboard: the page at `/`, its assets, and a read-only query API on Prometheus
 * (only the page's own queries), or on the process's own metrics when no Prometheus answers.
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const { config, registry } = options
  const logger = options.logger ?? createLogger()
  const now = options.now ?? Date.now
  const spec = buildDashboardSpec(config)
  const allowed = allowedQueries(spec)
  const assets = loadAssets()
  const auth = createDashboardAuth(config.adminToken)
  const mode = config.dashboard.source
  const prom = createPrometheusClient(config.prometheus.url.base, options.fetch)
  const sampler: LocalSampler | undefined =
    mode === 'prometheus'
      ? undefined
      : startLocalSampler({
          registry,
          logger,
          now,
          intervalMs: options.sampleIntervalMs ?? config.dashboard.localSampleIntervalMs,
        })

  let probed: { source: Source; at: number } | undefined
  const source = async (): Promise<Source> => {
    if (mode !== 'auto') return mode
    if (probed && now() - probed.at < PROBE_TTL_MS) return probed.source
    const up = await prom.ready()
    probed = { source: up ? 'prometheus' : 'local', at: now() }
    return probed.source
  }
  /** Prometheus failed to answer: with source auto, use the in-memory values for a while. */
  const fellOver = (err: unknown): boolean => {
    if (mode === 'auto' && err instanceof PrometheusError && err.unreachable) {
      probed = { source: 'local', at: now() }
      return true
    }
    return false
  }

  const language = (req: IncomingMessage, url: URL): Lang => {
    const asked = url.searchParams.get('lang') ?? readCookie(req, 'inferwatch_lang')
    if (asked === 'zh' || asked === 'en') return asked
    if (config.dashboard.language !== 'auto') return config.dashboard.language
    return pickLanguage(acceptLanguage(req.headers['accept-language'])) ?? config.relay.language
  }
  const urlOf = (req: IncomingMessage) => new URL(req.url ?? '/', 'http://admin.invalid')
  const html = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: string,
    extra = {},
  ) =>
    sendBody(req, res, status, 'text/html; charset=utf-8', body, {
      'cache-control': 'no-store',
      ...extra,
    })
  const loggedIn = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(303, { location: '/', 'set-cookie': auth.sessionCookie(req) }).end()
  }

  const answerQuery = async (req: QueryRequest, res: ServerResponse) => {
    let src = await source()
    if (src === 'prometheus') {
      try {
        sendJson(res, 200, await prom.query(req), 'prometheus')
        return
      } catch (err) {
        if (!fellOver(err)) {
          badData(res, 502, err instanceof Error ? err.message : String(err), 'unavailable')
          return
        }
        src = 'local'
      }
    }
    const snaps = sampler?.snapshots() ?? []
    const result =
      req.kind === 'query'
        ? {
            resultType: 'vector',
            result: evaluateInstant(req.query, snaps, req.time ?? now() / 1000).map((p) => ({
              metric: p.labels,
              value: [req.time ?? now() / 1000, String(p.value)],
            })),
          }
        : {
            resultType: 'matrix',
            result: evaluateRange(req.query, snaps, req.start, req.end, req.step).map((s) => ({
              metric: s.labels,
              values: s.values.map(([t, v]) => [t, String(v)]),
            })),
          }
    sendJson(res, 200, { status: 'success', data: result }, src)
  }

  const queryRoute = (kind: QueryRequest['kind']): DashboardRoute => ({
    method: 'GET',
    path: `/api/v1/${kind}`,
    handler: async (req, res) => {
      let parsed: QueryRequest
      try {
        parsed = parseQueryRequest(kind, urlOf(req).searchParams, allowed)
      } catch (err) {
        if (err instanceof BadQuery) return badData(res, 400, err.message)
        throw err
      }
      await answerQuery(parsed, res)
    },
  })

  const routes: DashboardRoute[] = [
    {
      method: 'GET',
      path: '/',
      open: true,
      handler: (req, res) => {
        const url = urlOf(req)
        const lang = language(req, url)
        const given = url.searchParams.get('token')
        if (!auth.open && given !== null) {
          if (auth.checkToken(given)) return loggedIn(req, res)
          return html(req, res, 401, renderLoginPage(lang, true))
        }
        if (!auth.accepts(req)) return html(req, res, 401, renderLoginPage(lang, false))
        html(req, res, 200, renderPage(spec, lang))
      },
    },
    {
      method: 'POST',
      path: '/login',
      open: true,
      handler: async (req, res) => {
        const lang = language(req, urlOf(req))
        let form: URLSearchParams
        try {
          form = await readForm(req, 4096)
        } catch {
          return html(req, res, 413, renderLoginPage(lang, true))
        }
        if (auth.checkToken(form.get('token') ?? '')) return loggedIn(req, res)
        html(req, res, 401, renderLoginPage(lang, true))
      },
    },
    {
      method: 'GET',
      path: '/assets/*',
      // Static code and styles, the same for everyone: no data, so no token (the login page uses them).
      open: true,
      handler: (req, res) => {
        const name = urlOf(req).pathname.slice('/assets/'.length)
        if (!serveAsset(assets, req, res, name))
          badData(res, 404, `no dashboard asset ${name}`, 'not_found')
      },
    },
    {
      method: 'GET',
      path: '/api/dashboard',
      handler: async (req, res) => {
        const src = await source()
        sendJson(
          res,
          200,
          {
            language: language(req, urlOf(req)),
            source: src,
            prometheusUrl: redactUrl(config.prometheus.url.base),
            localWindowSeconds: LOCAL_WINDOW_SECONDS,
            localOnly: [...allowed].filter((q) => !answersLocally(q)),
            ...spec,
          },
          src,
        )
      },
    },
    queryRoute('query'),
    queryRoute('query_range'),
    {
      method: 'GET',
      path: '/api/v1/alerts',
      handler: async (_req, res) => {
        if ((await source()) === 'prometheus') {
          try {
            const alerts = (await prom.alerts()).filter((a) =>
              isDashboardAlert(a.labels.alertname ?? ''),
            )
            sendJson(res, 200, { status: 'success', data: { alerts } }, 'prometheus')
            return
          } catch (err) {
            if (!fellOver(err))
              return badData(
                res,
                502,
                err instanceof Error ? err.message : String(err),
                'unavailable',
              )
          }
        }
        sendJson(res, 200, { status: 'success', data: { alerts: [] } }, 'local')
      },
    },
  ]
  logger.debug('dashboard ready', { source: mode, prometheus: redactUrl(prom.url) })
  return {
    routes,
    accepts: (req) => {
      const path = (req.url ?? '/').split('?', 1)[0] ?? '/'
      return (path === '/' || path.startsWith('/api/')) && auth.accepts(req)
    },
    close: async () => {
      await sampler?.close()
    },
  }
}
