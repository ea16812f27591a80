import { loadConfig } from '../../config/index.js'
import { startProxyService } from '../../server/index.js'
import { formatHostPort } from '../../shared/index.js'
import { hostPortFlag, positiveIntFlag, stringFlag, urlFlag } from '../_flags.js'
import { type Command, waitForAbort } from '../command.js'

export const proxyCommand: Command = {
  name: 'proxy',
  summary: 'metering reverse proxy in front of the engine, with the admin server (/metrics)',
  usage:
    'inferwatch proxy --upstream URL [--listen H:P] [--admin H:P] [--config F] [--admin-token T] [--upstream-timeout MS] [--max-body-bytes N]',
  options: {
    upstream: {
      type: 'string',
      valueName: 'URL',
      description: 'the engine base URL (default http://127.0.0.1:8000)',
    },
    listen: {
      type: 'string',
      valueName: 'H:P',
      description: 'where clients connect (default 0.0.0.0:8080)',
    },
    admin: {
      type: 'string',
      valueName: 'H:P',
      description: 'admin server: /metrics /healthz /readyz (default 127.0.0.1:9464)',
    },
    config: { type: 'string', valueName: 'F', description: 'inferwatch.yaml (flags override it)' },
    'admin-token': {
      type: 'string',
      valueName: 'T',
      description:
        'bearer token for the admin server except /healthz (or env INFERWATCH_ADMIN_TOKEN)',
    },
    'upstream-timeout': {
      type: 'string',
      valueName: 'MS',
      description: 'no response headers from the engine within this -> 504, ms (default 600000)',
    },
    'max-body-bytes': {
      type: 'string',
      valueName: 'N',
      description: 'larger request bodies get 413, bytes (default 16777216)',
    },
  },
  details: [
    'Every method and path is forwarded to the engine with the bodies unchanged; hop-by-hop',
    'headers (RFC 9110 §7.6.1) are dropped and Host names the engine. LLM endpoints are metered',
    '(OpenAI chat/completions, vLLM/TGI/SGLang /generate, llama.cpp /completion). SIGINT/SIGTERM',
    'stop accepting and let in-flight streams finish for up to proxy.drainTimeoutMs (30 s).',
  ].join('\n'),
  examples: [
    'inferwatch proxy --upstream http://127.0.0.1:8000',
    'inferwatch proxy --upstream http://10.0.0.5:8000 --listen 0.0.0.0:8080 --admin 0.0.0.0:9464 --admin-token "$TOKEN"',
    'curl -s http://127.0.0.1:9464/metrics | grep gen_ai_',
  ],
  async run(args, io) {
    const upstreamTimeoutMs = positiveIntFlag(args, 'upstream-timeout', 'milliseconds')
    const maxBodyBytes = positiveIntFlag(args, 'max-body-bytes', 'bytes')
    const config = loadConfig({
      path: stringFlag(args, 'config'),
      env: io.env,
      overrides: {
        upstream: urlFlag(args, 'upstream', 'UPSTREAM_URL_INVALID'),
        listen: hostPortFlag(args, 'listen'),
        admin: hostPortFlag(args, 'admin'),
        adminToken: stringFlag(args, 'admin-token') ?? (io.env.INFERWATCH_ADMIN_TOKEN || undefined),
        proxy: { upstreamTimeoutMs, maxBodyBytes },
      },
    })
    const service = await startProxyService(config, { logger: io.logger })
    const listening = `http://${formatHostPort({ host: service.proxy.host, port: service.proxy.port })}`
    io.stdout(
      `inferwatch proxy listening on ${listening} -> ${config.upstream.label}; metrics at ${service.adminUrl}/metrics\n`,
    )
    await waitForAbort(io.signal)
    io.logger.info('shutting down: draining in-flight requests', {
      inFlight: service.proxy.inFlight(),
      drainTimeoutMs: config.proxy.drainTimeoutMs,
    })
    await service.close()
    return 0
  },
}
