import { parseConfig } from '../../config/index.js'
import { startProxyService } from '../../server/index.js'
import { renderMetricsSummary, sendDemoTraffic, startScriptedEngine } from '../../sim/index.js'
import { boolFlag, hostPortFlag } from '../_flags.js'
import { type Command, waitForAbort } from '../command.js'

const MODEL = 'qwen3-4b-instruct-2507'

export const demoCommand: Command = {
  name: 'demo',
  summary: 'proxy in front of a scripted test engine, a little traffic, then the metrics',
  usage: 'inferwatch demo [--listen H:P] [--admin H:P] [--once]',
  options: {
    listen: {
      type: 'string',
      valueName: 'H:P',
      description: 'proxy address (default 127.0.0.1:0, a free port)',
    },
    admin: {
      type: 'string',
      valueName: 'H:P',
      description: 'admin server with /metrics (default 127.0.0.1:0, a free port)',
    },
    once: { type: 'boolean', description: 'exit after the summary (default: run until Ctrl-C)' },
  },
  details:
    'The scripted engine speaks the vLLM OpenAI API with a known schedule (first token after 80 ms, then one every 15 ms).',
  examples: ['make demo', 'inferwatch demo --once'],
  async run(args, io) {
    const engine = await startScriptedEngine({ servedModels: [MODEL], maxModelLen: 262144 })
    try {
      const config = parseConfig(
        {
          upstream: engine.url,
          listen: hostPortFlag(args, 'listen') ?? '127.0.0.1:0',
          admin: hostPortFlag(args, 'admin') ?? '127.0.0.1:0',
          gpu: { enabled: false },
          proxy: { drainTimeoutMs: 2000 },
        },
        'demo',
      )
      const service = await startProxyService(config, { logger: io.logger })
      try {
        io.stdout(`demo engine  ${engine.url} (scripted, serves ${MODEL})\n`)
        io.stdout(`proxy        ${service.proxyUrl}\n`)
        io.stdout(`metrics      ${service.adminUrl}/metrics\n\nloading the Qwen3 tokenizer…\n`)
        // The scripted engine counts prompts with the real tokenizer for its usage chunks; loaded
        // first, its load time does not stretch the first streams' time per output token.
        await engine.warmTokenizer()
        io.stdout('sending traffic…\n')
        const traffic = await sendDemoTraffic(service.proxyUrl, MODEL)
        io.stdout(`sent ${traffic.sent} requests, HTTP statuses: ${traffic.statuses.join(' ')}\n\n`)
        // The meter records each exchange when its response ends (token counts may take a moment).
        await service.settled(30_000)
        io.stdout(await renderMetricsSummary(service.registry))
        io.stdout(
          [
            '',
            'try it:',
            `  curl -s ${service.proxyUrl}/v1/chat/completions -H 'content-type: application/json' \\`,
            `    -d '{"model":"${MODEL}","messages":[{"role":"user","content":"hi"}],"stream":true}'`,
            `  curl -s ${service.adminUrl}/metrics | grep -E '^(gen_ai|inferwatch)_'`,
            '',
          ].join('\n'),
        )
        if (!boolFlag(args, 'once')) {
          io.stdout('running until Ctrl-C\n')
          await waitForAbort(io.signal)
        }
      } finally {
        await service.close()
      }
    } finally {
      await engine.close()
    }
    return 0
  },
}
