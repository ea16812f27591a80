import { loadConfig, parseHostPort } from '../../config/index.js'
import { HOOK_PATH, startRelayServer } from '../../relay/index.js'
import { hostPortFlag, stringFlag } from '../_flags.js'
import { type Command, waitForAbort } from '../command.js'

export const DEFAULT_RELAY_LISTEN = '127.0.0.1:9465'

export const relayCommand: Command = {
  name: 'relay',
  summary: 'Alertmanager webhook relay to DingTalk, WeCom, Feishu/Lark, Slack, webhooks and files',
  usage: 'inferwatch relay [--listen H:P] [--config F] [--token T]',
  options: {
    listen: {
      type: 'string',
      valueName: 'H:P',
      description: `where Alertmanager posts (default ${DEFAULT_RELAY_LISTEN}; the admin server is 9464)`,
    },
    config: {
      type: 'string',
      valueName: 'F',
      description: 'inferwatch.yaml with relay.channels (no file: nothing is sent anywhere)',
    },
    token: {
      type: 'string',
      valueName: 'T',
      description: 'require "Authorization: Bearer T" on the hook (default relay.hookToken)',
    },
  },
  details: [
    `Alertmanager webhook_config url: http://H:P${HOOK_PATH}. Also serves GET /healthz and GET /metrics.`,
    'Answers 200 once every channel delivered (or rejected the message for a configuration error,',
    'which is logged with the fix and counted), 503 while a chat API is failing so Alertmanager',
    'retries, 400 for a body that is not an Alertmanager payload.',
  ].join('\n'),
  examples: [
    'inferwatch relay --config inferwatch.yaml',
    'DINGTALK_TOKEN=... DINGTALK_SECRET=SEC... inferwatch relay --config inferwatch.yaml --listen 0.0.0.0:9465',
  ],
  async run(args, io) {
    const listen = hostPortFlag(args, 'listen') ?? parseHostPort(DEFAULT_RELAY_LISTEN, '--listen')
    const token = stringFlag(args, 'token')
    const config = loadConfig({
      path: stringFlag(args, 'config'),
      env: io.env,
      overrides: token ? { relay: { hookToken: token } } : {},
    })
    const server = await startRelayServer({
      host: listen.host,
      port: listen.port,
      config: config.relay,
      logger: io.logger,
      writeStdout: io.stdout,
    })
    io.stderr(`inferwatch relay: POST ${server.url}${HOOK_PATH} (Ctrl-C to stop)\n`)
    await waitForAbort(io.signal)
    await server.close()
    return 0
  },
}
