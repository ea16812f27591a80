import { createServer } from 'node:http'
import { Registry } from 'prom-client'
import { closeHttpServer, type Logger, listenHttp } from '../shared/index.js'
import type { RelayConfig } from './_types.js'
import { type AlertmanagerHookOptions, createAlertmanagerHook } from './hook.js'

// `inferwatch relay`: the hook alone, with its own /healthz and /metrics.

export interface RelayServerOptions
  extends Omit<AlertmanagerHookOptions, 'registry' | 'config' | 'logger'> {
  host: string
  port: number
  config: RelayConfig
  logger: Logger
}

export interface RelayServer {
  url: string
  close(): Promise<void>
}

export const HOOK_PATH = '/hooks/alertmanager'

export async function startRelayServer(options: RelayServerOptions): Promise<RelayServer> {
  const registry = new Registry()
  const hook = createAlertmanagerHook({ ...options, registry })
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === HOOK_PATH) return hook.handler(req, res)
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('ok\n')
      return
    }
    if (req.method === 'GET' && path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType })
          res.end(text)
        },
        () => {
          res.writeHead(500)
          res.end()
        },
      )
      return
    }
    res.writeHead(404, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({
        error: { code: 'USAGE', message: `no route ${path}`, hint: `POST ${HOOK_PATH}` },
      }),
    )
  })
  let url: string
  try {
    ;({ url } = await listenHttp(server, {
      host: options.host,
      port: options.port,
      what: 'relay',
      code: 'RELAY_LISTEN_FAILED',
      flag: '--listen',
    }))
  } catch (err) {
    await hook.close()
    throw err
  }
  options.logger.info('relay: listening', {
    url: `${url}${HOOK_PATH}`,
    channels: options.config.channels.map((c) => c.name),
  })
  return {
    url,
    async close() {
      await closeHttpServer(server)
      await hook.close()
    },
  }
}
