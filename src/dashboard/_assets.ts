import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { gzipSync } from 'node:zlib'
import { APP_CSS } from './_style.js'

// Every file the page loads, read once at start and served from memory, gzipped when the browser
// accepts it. The page's scripts are this area's compiled client/*.js; the chart library is uPlot
// (https://github.com/leeoniya/uPlot), a runtime dependency, read from its installed package.

/** No inline script or style, nothing from another origin, no framing. */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

export const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
}

interface Asset {
  type: string
  body: Buffer
  gzip: Buffer
  etag: string
}

const CLIENT_FILES: Record<string, URL> = {
  'app.js': new URL('./client/app.js', import.meta.url),
  'api.js': new URL('./client/api.js', import.meta.url),
  'charts.js': new URL('./client/charts.js', import.meta.url),
  'dom.js': new URL('./client/dom.js', import.meta.url),
  'format.js': new URL('./client/format.js', import.meta.url),
  'i18n.js': new URL('./client/i18n.js', import.meta.url),
  'tiles.js': new URL('./client/tiles.js', import.meta.url),
}

function asset(type: string, text: string): Asset {
  const body = Buffer.from(text)
  return {
    type,
    body,
    gzip: gzipSync(body, { level: 9 }),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  }
}

/** Reads the assets; throws when the build or the uplot package is missing (a broken install). */
export function loadAssets(): Map<string, Asset> {
  const require = createRequire(import.meta.url)
  const uplotJs = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8')
  const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8')
  const assets = new Map<string, Asset>()
  assets.set('uplot.js', asset('text/javascript; charset=utf-8', uplotJs))
  assets.set('app.css', asset('text/css; charset=utf-8', `${uplotCss}\n${APP_CSS}`))
  for (const [name, url] of Object.entries(CLIENT_FILES)) {
    // The source map points into src/, which the package does not ship.
    const js = readFileSync(url, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n')
    assets.set(name, asset('text/javascript; charset=utf-8', js))
  }
  return assets
}

const acceptsGzip = (req: IncomingMessage) => /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')

/** Sends a body, gzipped when accepted and worth it. */
export function sendBody(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  const raw = typeof body === 'string' ? Buffer.from(body) : body
  const gz = acceptsGzip(req) && raw.length > 1024
  const out = gz ? gzipSync(raw) : raw
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-length': out.length,
    vary: 'accept-encoding',
    ...(gz ? { 'content-encoding': 'gzip' } : {}),
    ...headers,
  })
  res.end(req.method === 'HEAD' ? undefined : out)
}

export function serveAsset(
  assets: Map<string, Asset>,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
): boolean {
  const a = assets.get(name)
  if (!a) return false
  const common = {
    ...SECURITY_HEADERS,
    etag: a.etag,
    'cache-control': 'no-cache',
    vary: 'accept-encoding',
  }
  if (req.headers['if-none-match'] === a.etag) {
    res.writeHead(304, common).end()
    return true
  }
  const gz = acceptsGzip(req)
  const out = gz ? a.gzip : a.body
  res.writeHead(200, {
    ...common,
    'content-type': a.type,
    'content-length': out.length,
    ...(gz ? { 'content-encoding': 'gzip' } : {}),
  })
  res.end(req.method === 'HEAD' ? undefined : out)
  return true
}
