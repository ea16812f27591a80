import { relative, resolve } from 'node:path'
import { loadConfig, parseConfig } from '../../config/index.js'
import { type EngineType, writeRules } from '../../rules/index.js'
import { AppError } from '../../shared/index.js'
import { choiceFlag, stringFlag, urlFlag } from '../_flags.js'
import type { Command } from '../command.js'

const ENGINES = ['vllm', 'tgi', 'sglang', 'llamacpp'] as const

// What each engine needs for its /metrics, from each engine's docs (links in src/engines/_schemas.ts).
const ENGINE_NOTES: Record<EngineType, string> = {
  vllm: 'vLLM serves /metrics on its API port (no flag needed; --disable-log-stats drops the vllm:* metrics)',
  tgi: 'TGI serves /metrics on its API port (and on --prometheus-port, 9000, since v3.3); there is no --metrics-exporter flag',
  sglang: 'SGLang serves /metrics only when started with --enable-metrics',
  llamacpp: 'llama-server serves /metrics only when started with --metrics (otherwise 501)',
}

// Default API ports, from the same docs: the default upstream is vLLM's 8000.
const DEFAULT_PORTS: Record<EngineType, string> = {
  vllm: '8000',
  tgi: '3000 (80 in the Docker image)',
  sglang: '30000',
  llamacpp: '8080 (9931 in newer builds)',
}

export const rulesCommand: Command = {
  name: 'rules',
  summary:
    'write prometheus.yml, llm:* recording rules, alerts, promtool tests, alertmanager.yml, a Grafana dashboard and k8s manifests',
  usage:
    'inferwatch rules --out DIR [--engine vllm|tgi|sglang|llamacpp] [--config F] [--lang zh|en]',
  options: {
    out: {
      type: 'string',
      valueName: 'DIR',
      description: 'directory to write into (created if missing)',
    },
    engine: {
      type: 'string',
      valueName: 'ENGINE',
      description:
        'engine behind --upstream: vllm, tgi, sglang or llamacpp (default: config `engine`, vllm)',
    },
    config: {
      type: 'string',
      short: 'c',
      valueName: 'F',
      description: 'inferwatch.yaml (thresholds, targets, Alertmanager)',
    },
    lang: {
      type: 'string',
      valueName: 'zh|en',
      description: 'language of alert summaries (default: config alerts.language, zh)',
    },
    upstream: {
      type: 'string',
      valueName: 'URL',
      description: 'engine base URL, scraped for /metrics (default http://127.0.0.1:8000)',
    },
    profile: {
      type: 'string',
      valueName: 'default|test',
      description:
        'test: 1 s scrape/evaluation and short `for` durations (for rehearsals and tests)',
    },
  },
  examples: [
    'inferwatch rules --out ./monitoring',
    'inferwatch rules --out ./monitoring --engine sglang --upstream http://127.0.0.1:30000 --lang en',
  ],
  details:
    'Point Prometheus at DIR/prometheus.yml (it loads DIR/rules/inferwatch.rules.yml) and Alertmanager at DIR/alertmanager.yml. After regenerating, reload in place: curl -X POST http://127.0.0.1:9090/-/reload (needs --web.enable-lifecycle) or send SIGHUP to the Prometheus process. Never killall: a restart drops pending alert state and misses scrapes while down; a reload keeps both.',
  async run(args, io) {
    const out = stringFlag(args, 'out')
    if (!out) {
      throw new AppError('USAGE', 'rules needs --out DIR', {
        hint: 'e.g. inferwatch rules --out ./monitoring',
      })
    }
    const engine = choiceFlag<EngineType>(args, 'engine', ENGINES)
    const language = choiceFlag(args, 'lang', ['zh', 'en'] as const)
    const profile = choiceFlag(args, 'profile', ['default', 'test'] as const)
    const upstream = urlFlag(args, 'upstream', 'UPSTREAM_URL_INVALID')
    const configPath = stringFlag(args, 'config')
    const config = loadConfig({
      path: configPath ? resolve(io.cwd, configPath) : undefined,
      env: io.env,
      overrides: { ...(upstream ? { upstream } : {}), ...(engine ? { engine } : {}) },
    })
    const outDir = resolve(io.cwd, out)
    const result = await writeRules(config, outDir, {
      ...(engine ? { engine } : {}),
      ...(language ? { language } : {}),
      ...(profile ? { profile } : {}),
    })
    const rel = (p: string) => {
      const r = relative(io.cwd, p)
      return r === '' ? '.' : r.startsWith('..') ? p : r
    }
    io.stdout(`Wrote ${result.files.length} files to ${rel(outDir)}:\n`)
    for (const f of result.files) io.stdout(`  ${rel(f)}\n`)
    const only = result.plan.engines.length === 1 ? result.plan.engines[0] : undefined
    if (
      only &&
      !upstream &&
      only.type !== 'vllm' &&
      !config.engines.length &&
      config.upstream.href === parseConfig({}).upstream.href
    ) {
      const port = DEFAULT_PORTS[only.type].split(' ')[0]
      result.warnings.push(
        `prometheus.yml scrapes ${only.type} at ${only.targets[0]}, the default upstream (vLLM's port), but ${only.type} listens on ${DEFAULT_PORTS[only.type]} by default. If that is where it runs, pass --upstream http://127.0.0.1:${port} (or set upstream or engines in the config) and rerun.`,
      )
    }
    for (const w of result.warnings) io.stderr(`warning: ${w}\n`)
    const d = rel(outDir)
    const p = result.plan
    io.stdout(
      [
        '',
        ...[...new Set(p.engines.map((e) => e.type))].map((t) => `Note: ${ENGINE_NOTES[t]}.`),
        'Next steps:',
        `  promtool check config ${d}/prometheus.yml && (cd ${d}/rules && promtool test rules inferwatch.test.yml)`,
        `  amtool check-config ${d}/alertmanager.yml`,
        `  prometheus --config.file=${d}/prometheus.yml --web.enable-lifecycle`,
        `  prometheus-alertmanager --config.file=${d}/alertmanager.yml   # alerts go to ${p.webhookUrl}`,
        `  Already running? Reload, don't kill: curl -X POST ${p.prometheusUrl.base}/-/reload and curl -X POST ${p.alertmanagerUrl.base}/-/reload (or kill -HUP <pid>)`,
        `  Grafana: import ${d}/grafana/inferwatch.json; Kubernetes: kubectl apply -f ${d}/k8s/`,
        '',
      ].join('\n'),
    )
    return 0
  },
}
