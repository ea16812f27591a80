import { type Config, loadConfig, parseConfig } from '../../config/index.js'
import { discoverEngine } from '../../engines/index.js'
import { AppError } from '../../shared/index.js'
import { type EngineSimulator, simulatedNvidiaSmi, startSimulator } from '../../sim/index.js'
import {
  type AlertChange,
  DEMO_PHASES,
  DEMO_SIM,
  type DemoPhase,
  demoConfig,
  demoTiming,
  renderBanner,
  renderDemoSummary,
  runDemoDriver,
  startStack,
  watchAlerts,
  watchedEngine,
} from '../../stack/index.js'
import { boolFlag, hostPortFlag, numberFlag, stringFlag, urlFlag } from '../_flags.js'
import { type Command, waitForAbort } from '../command.js'

export const upCommand: Command = {
  name: 'up',
  summary:
    'the whole stack in one command: proxy, admin, GPU collector, relay, Prometheus, Alertmanager (--demo: a simulated engine and scripted incidents)',
  usage:
    'inferwatch up [--upstream URL | --demo] [--config F] [--data-dir D] [--prometheus URL] [--alertmanager URL] [--speed X]',
  options: {
    upstream: {
      type: 'string',
      valueName: 'URL',
      description: 'the engine base URL (default http://127.0.0.1:8000)',
    },
    demo: {
      type: 'boolean',
      description:
        'run the engine simulator behind the proxy and drive traffic until every alert has fired and resolved',
    },
    config: {
      type: 'string',
      valueName: 'F',
      description: 'inferwatch.yaml (watched: rules and alerting reload in place)',
    },
    'data-dir': {
      type: 'string',
      valueName: 'D',
      description:
        'generated config, Prometheus TSDB, Alertmanager state, logs, pid files (default ./.inferwatch)',
    },
    prometheus: {
      type: 'string',
      valueName: 'URL',
      description: 'use this running Prometheus instead of starting one',
    },
    alertmanager: {
      type: 'string',
      valueName: 'URL',
      description: 'use this running Alertmanager instead of starting one',
    },
    listen: {
      type: 'string',
      valueName: 'H:P',
      description: 'proxy address (default 0.0.0.0:8080)',
    },
    admin: {
      type: 'string',
      valueName: 'H:P',
      description: 'admin server: dashboard, /metrics, alert hook (default 127.0.0.1:9464)',
    },
    'prometheus-listen': {
      type: 'string',
      valueName: 'H:P',
      description:
        'where the Prometheus child listens (default 127.0.0.1:9090; port 0: a free one)',
    },
    'alertmanager-listen': {
      type: 'string',
      valueName: 'H:P',
      description:
        'where the Alertmanager child listens (default 127.0.0.1:9093; port 0: a free one)',
    },
    speed: {
      type: 'string',
      valueName: 'X',
      description:
        '--demo: simulated time, scrapes and alert `for` durations run X times faster (default 1: about 10 minutes)',
    },
    phases: {
      type: 'string',
      valueName: 'LIST',
      description: `--demo: the phases to run, comma-separated (default ${DEMO_PHASES.join(',')})`,
    },
  },
  details: [
    'Runs the proxy, the admin server (dashboard at /, /metrics, /hooks/alertmanager), the GPU',
    'collector and the relay in this process, and Prometheus and Alertmanager as children with the',
    'config `inferwatch rules` would write, under --data-dir. It waits until both are ready and every',
    'target is scraped, then prints what it watches and every URL. A crashed child restarts with its',
    'data; saving the --config file re-renders the rules and POSTs /-/reload. Ctrl-C or SIGTERM stops',
    'everything; if inferwatch itself is killed, the children stop too, and the next `up` cleans',
    'their pid files. Every notification is also appended to <data dir>/notifications.log.',
    '',
    '--demo simulates vLLM serving Qwen3-4B-Instruct-2507 on an L40S at',
    '--gpu-memory-utilization 0.85 and runs: steady chat; a long-context burst from client',
    '"batch-summarizer" (LLMLongContextOverload); a KV-cache squeeze (LLMKVCacheHigh, LLMBacklogHigh);',
    'a GPU memory leak in another process (LLMGPUMemoryHigh); an engine crash and restart',
    '(LLMEngineDown). Each alert fires and resolves; the console shows the phase and every change.',
  ].join('\n'),
  examples: [
    'inferwatch up --upstream http://127.0.0.1:8000',
    'inferwatch up --demo --speed 10',
    'make demo SPEED=10',
    'inferwatch up --upstream http://10.0.0.5:8000 --config inferwatch.yaml --prometheus http://prom:9090',
  ],
  async run(args, io) {
    const demo = boolFlag(args, 'demo')
    const upstream = urlFlag(args, 'upstream', 'UPSTREAM_URL_INVALID')
    if (demo && upstream)
      throw new AppError('USAGE', '--demo and --upstream exclude each other', {
        hint: '--demo runs its own simulated engine; drop one of them',
      })
    for (const flag of ['speed', 'phases'])
      if (!demo && stringFlag(args, flag) !== undefined)
        throw new AppError('USAGE', `--${flag} applies to --demo only`, {
          hint: `add --demo, or drop --${flag}`,
        })
    const speed = numberFlag(args, 'speed', { integer: false, command: 'up' }) ?? 1
    if (!(speed > 0))
      throw new AppError('USAGE', `--speed must be above 0, got ${speed}`, {
        hint: 'e.g. --speed 10',
      })
    const phases = parsePhases(stringFlag(args, 'phases'))
    const path = stringFlag(args, 'config')
    const dataDir = stringFlag(args, 'data-dir')
    const promListen = hostPortFlag(args, 'prometheus-listen')
    const amListen = hostPortFlag(args, 'alertmanager-listen')
    const load = () =>
      loadConfig({
        path,
        env: io.env,
        overrides: {
          upstream,
          listen: hostPortFlag(args, 'listen'),
          admin: hostPortFlag(args, 'admin'),
          up: { dataDir, prometheusListen: promListen, alertmanagerListen: amListen },
        },
      })
    const user = load()
    const externalPrometheus = urlFlag(args, 'prometheus')
    const externalAlertmanager = urlFlag(args, 'alertmanager')

    let sim: EngineSimulator | undefined
    let config: Readonly<Config> = user
    if (demo) {
      io.stdout(
        `starting the engine simulator: vLLM serving ${DEMO_SIM.model} on a simulated L40S (--gpu-memory-utilization ${DEMO_SIM.gpuMemoryUtilization}), speed ${speed}x\n`,
      )
      sim = await startSimulator({ ...DEMO_SIM, speed, host: '127.0.0.1', port: 0 })
      await sim.warmTokenizer()
      const simUrl = sim.url
      config = parseConfig(demoConfig(user, simUrl, speed), 'up --demo')
    }
    // The rules are written for one engine dialect: follow the engine that answers, unless the
    // config lists its engines itself.
    let detected: EngineType | undefined
    if (!demo && config.engines.length === 0) {
      detected = await detectEngineType(config, io.env.INFERWATCH_API_KEY)
      if (detected && detected !== config.engine) {
        io.stdout(
          `the engine at ${config.upstream.label} answers as ${detected} (the config says ${config.engine}): the rules follow ${detected}; list it under \`engines:\` to pin it\n`,
        )
        config = parseConfig({ ...config, engine: detected }, 'up')
      } else if (!detected) {
        io.stdout(
          `the engine at ${config.upstream.label} did not say what it is (not started yet?): the rules assume ${config.engine}; set \`engine:\` in the config if that is wrong\n`,
        )
      }
    }
    const reloadConfig = () => {
      const next = load()
      if (sim) return parseConfig(demoConfig(next, sim.url, speed), 'up --demo')
      return detected && next.engines.length === 0
        ? parseConfig({ ...next, engine: detected }, 'up')
        : next
    }
    try {
      io.stdout(
        `starting ${[externalPrometheus ? '' : 'Prometheus', externalAlertmanager ? '' : 'Alertmanager'].filter(Boolean).join(' and ') || 'the server'} and waiting until every target is scraped…\n`,
      )
      const t0 = Date.now()
      const stack = await startStack({
        config,
        configPath: path,
        reloadConfig,
        cwd: io.cwd,
        externalPrometheus,
        externalAlertmanager,
        ...(sim ? { execFile: simulatedNvidiaSmi(sim) } : {}),
        path: io.env.PATH,
        logger: io.logger,
        pid: process.pid,
        say: (line) => io.stdout(`${line}\n`),
        signal: io.signal,
      })
      try {
        const engine = await watchedEngine(stack.service.registry)
        io.stdout(
          `ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n${renderBanner(stack, engine, {
            upstream: sim ? `${sim.url} (simulated)` : config.upstream.label,
            external: { prometheus: !!externalPrometheus, alertmanager: !!externalAlertmanager },
          })}`,
        )
        const timing = demoTiming(stack.config, speed)
        const alerts = watchAlerts({
          prometheusUrl: stack.prometheusUrl,
          notificationsFile: stack.paths.notifications,
          intervalMs: Math.max(250, (timing.scrapeS * 1000) / 2),
          onChange: (c) => io.stdout(`${clock(c.atMs)}  ${describe(c)}\n`),
          onNotification: (n) =>
            io.stdout(`         notification (${n.status}) written: ${n.title}\n`),
        })
        try {
          if (sim) {
            io.stdout(
              `\nthe demo runs ${phases.length} phases; open ${stack.prometheusUrl}/alerts to watch them, Ctrl-C stops everything\n`,
            )
            const outcome = await runDemoDriver({
              sim,
              proxyUrl: stack.proxyUrl,
              model: sim.model,
              timing,
              alerts,
              phases,
              say: (line) => io.stdout(`${line}\n`),
              signal: io.signal,
              settled: () => stack.service.settled(60_000),
            })
            if (!io.signal.aborted)
              io.stdout(renderDemoSummary(outcome, alerts.timeline, stack.paths.notifications))
          } else {
            io.stdout('Ctrl-C stops everything\n')
          }
          await waitForAbort(io.signal)
          io.stdout('stopping: proxy, Alertmanager, Prometheus…\n')
        } finally {
          alerts.close()
        }
      } finally {
        await stack.close()
      }
    } finally {
      await sim?.close()
    }
    io.stdout('stopped\n')
    return 0
  },
}

type EngineType = Config['engine']
const ENGINE_TYPES: readonly string[] = ['vllm', 'tgi', 'sglang', 'llamacpp']

async function detectEngineType(
  config: Readonly<Config>,
  apiKey: string | undefined,
): Promise<EngineType | undefined> {
  try {
    const info = await discoverEngine(config.upstream.base, {
      timeoutMs: 3000,
      ...(apiKey ? { apiKey } : {}),
    })
    return info.identified && ENGINE_TYPES.includes(info.provider)
      ? (info.provider as EngineType)
      : undefined
  } catch {
    return undefined
  }
}

function parsePhases(raw: string | undefined): DemoPhase[] {
  if (raw === undefined) return [...DEMO_PHASES]
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const bad = list.filter((p) => !(DEMO_PHASES as readonly string[]).includes(p))
  if (bad.length || !list.length)
    throw new AppError('USAGE', `--phases takes ${DEMO_PHASES.join(', ')}; got "${raw}"`, {
      hint: `e.g. --phases ${DEMO_PHASES.slice(0, 2).join(',')}`,
    })
  return list as DemoPhase[]
}

export function clock(ms: number): string {
  const s = Math.floor(ms / 1000)
  return `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}]`
}

function describe(c: AlertChange): string {
  const value = c.value !== undefined && c.state !== 'resolved' ? ` (value ${short(c.value)})` : ''
  const what = c.state === 'pending' ? 'pending (condition true, waiting out `for`)' : c.state
  return `alert ${c.alert} ${what}${value}`
}

function short(v: string): string {
  const n = Number(v)
  return Number.isFinite(n) ? String(Number(n.toPrecision(3))) : v
}
