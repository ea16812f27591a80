import { z } from 'zod'
import { ALERT_NAMES } from '../rules/index.js'
import { getJson, hostPortOf } from './_http-json.js'
import type { DoctorCheck, DoctorOptions } from './types.js'

// Prometheus HTTP API: https://prometheus.io/docs/prometheus/latest/querying/api/
// (/api/v1/targets, /api/v1/rules, /api/v1/alertmanagers).

/** The contract's alert names (README: Prometheus rules and alerts), as src/rules writes them. */
export const CONTRACT_ALERTS = ALERT_NAMES

const envelope = <T extends z.ZodType>(data: T) => z.object({ status: z.literal('success'), data })

const targetsSchema = envelope(
  z.object({
    activeTargets: z.array(
      z.object({
        labels: z.record(z.string(), z.string()),
        scrapeUrl: z.string(),
        health: z.string(),
        lastError: z.string().default(''),
      }),
    ),
  }),
)

const rulesSchema = envelope(
  z.object({
    groups: z.array(
      z.object({
        name: z.string(),
        file: z.string().default(''),
        rules: z.array(
          z.object({
            name: z.string(),
            type: z.string(),
            query: z.string().default(''),
            health: z.string().default('unknown'),
            lastError: z.string().nullish(),
          }),
        ),
      }),
    ),
  }),
)

const alertmanagersSchema = envelope(
  z.object({ activeAlertmanagers: z.array(z.object({ url: z.string() })) }),
)

export interface PrometheusChecks {
  checks: DoctorCheck[]
  /** LLMGPUMemoryHigh's threshold as deployed (from its PromQL), when found. */
  deployedGpuThreshold?: number
}

const TITLES = {
  up: 'Prometheus up',
  targets: 'Prometheus targets up',
  rules: 'inferwatch rules loaded',
  am: 'Prometheus → Alertmanager',
}

export async function checkPrometheus(options: DoctorOptions): Promise<PrometheusChecks> {
  const prom = options.prometheus?.replace(/\/+$/, '')
  if (!prom) {
    const why = 'no --prometheus URL given'
    return {
      checks: [
        { id: 'prometheus.up', title: TITLES.up, status: 'skip', finding: why },
        { id: 'prometheus.targets', title: TITLES.targets, status: 'skip', finding: why },
        { id: 'prometheus.rules', title: TITLES.rules, status: 'skip', finding: why },
        { id: 'prometheus.alertmanager', title: TITLES.am, status: 'skip', finding: why },
      ],
    }
  }
  const http = { fetch: options.fetch, timeoutMs: options.timeoutMs }
  const [targets, rules, ams] = await Promise.all([
    getJson(`${prom}/api/v1/targets?state=active`, targetsSchema, http),
    getJson(`${prom}/api/v1/rules?type=alert`, rulesSchema, http),
    getJson(`${prom}/api/v1/alertmanagers`, alertmanagersSchema, http),
  ])
  if (!targets.ok) {
    const down = 'Prometheus does not answer'
    return {
      checks: [
        {
          id: 'prometheus.up',
          title: TITLES.up,
          status: 'fail',
          finding: targets.problem,
          fix: targets.refused
            ? `start Prometheus (\`prometheus --config.file=DIR/prometheus.yml --web.enable-lifecycle\`, written by \`inferwatch rules --out DIR\`) or pass the right --prometheus URL`
            : 'check that --prometheus is the Prometheus base URL (e.g. http://127.0.0.1:9090)',
        },
        { id: 'prometheus.targets', title: TITLES.targets, status: 'skip', finding: down },
        { id: 'prometheus.rules', title: TITLES.rules, status: 'skip', finding: down },
        { id: 'prometheus.alertmanager', title: TITLES.am, status: 'skip', finding: down },
      ],
    }
  }
  const checks: DoctorCheck[] = [
    { id: 'prometheus.up', title: TITLES.up, status: 'pass', finding: `${prom} answers its API` },
    targetsCheck(targets.data.data.activeTargets, options),
  ]
  const result: PrometheusChecks = { checks }
  if (rules.ok) {
    const all = rules.data.data.groups.flatMap((g) => g.rules.map((r) => ({ ...r, file: g.file })))
    checks.push(rulesCheck(all))
    const gpuRule = all.find((r) => r.name === 'LLMGPUMemoryHigh')
    const threshold = gpuRule ? thresholdOf(gpuRule.query) : undefined
    if (threshold !== undefined) result.deployedGpuThreshold = threshold
  } else {
    checks.push({
      id: 'prometheus.rules',
      title: TITLES.rules,
      status: 'fail',
      finding: rules.problem,
    })
  }
  checks.push(alertmanagerWiring(ams, options.alertmanager))
  return result
}

function targetsCheck(
  targets: z.infer<typeof targetsSchema>['data']['activeTargets'],
  options: DoctorOptions,
): DoctorCheck {
  const id = 'prometheus.targets'
  const title = TITLES.targets
  if (targets.length === 0)
    return {
      id,
      title,
      status: 'fail',
      finding: 'Prometheus has no scrape targets',
      fix: 'use the prometheus.yml that `inferwatch rules --out DIR` writes (it scrapes the engine and the inferwatch admin /metrics)',
    }
  const name = (t: (typeof targets)[number]) => `${t.labels.job ?? '?'} ${t.scrapeUrl}`
  const down = targets.filter((t) => t.health === 'down')
  if (down.length > 0)
    return {
      id,
      title,
      status: 'fail',
      finding: down.map((t) => `${name(t)} is down: ${t.lastError || 'no error text'}`).join('; '),
      fix: 'start what is down, or fix its address in prometheus.yml and reload Prometheus (POST /-/reload or SIGHUP)',
    }
  const scraped = new Set(targets.map((t) => hostPortOf(t.scrapeUrl)))
  const missing: string[] = []
  const engine = hostPortOf(options.upstream)
  if (engine && !scraped.has(engine)) missing.push(`the engine (${engine})`)
  const admin = options.adminUrl ? hostPortOf(options.adminUrl) : undefined
  if (admin && !scraped.has(admin)) missing.push(`the inferwatch admin (${admin})`)
  if (missing.length > 0)
    return {
      id,
      title,
      status: 'warn',
      finding: `${targets.length} target(s) up, but Prometheus does not scrape ${missing.join(' or ')}`,
      fix: 'add the missing targets to prometheus.yml (`inferwatch rules --out DIR` writes one) and reload Prometheus',
    }
  const unknown = targets.filter((t) => t.health !== 'up')
  if (unknown.length > 0)
    return {
      id,
      title,
      status: 'warn',
      finding: `not scraped yet: ${unknown.map(name).join(', ')}`,
      fix: 'rerun doctor after one scrape interval',
    }
  return {
    id,
    title,
    status: 'pass',
    finding: `${targets.length} target(s) up: ${targets.map(name).join(', ')}`,
  }
}

function rulesCheck(
  rules: { name: string; type: string; health: string; lastError?: string | null | undefined }[],
): DoctorCheck {
  const id = 'prometheus.rules'
  const title = TITLES.rules
  const names = new Set(rules.filter((r) => r.type === 'alerting').map((r) => r.name))
  const missing = CONTRACT_ALERTS.filter((a) => !names.has(a))
  const fix =
    'run `inferwatch rules --out DIR`, list DIR/rules/inferwatch.rules.yml under rule_files in prometheus.yml, and reload Prometheus (POST /-/reload)'
  if (missing.length === CONTRACT_ALERTS.length)
    return { id, title, status: 'fail', finding: 'none of the inferwatch alerts is loaded', fix }
  if (missing.length > 0)
    return { id, title, status: 'fail', finding: `missing alerts: ${missing.join(', ')}`, fix }
  const broken = rules.filter((r) => r.health === 'err')
  if (broken.length > 0)
    return {
      id,
      title,
      status: 'warn',
      finding: `rules failing to evaluate: ${broken.map((r) => `${r.name}: ${r.lastError ?? ''}`).join('; ')}`,
      fix: 'regenerate the rules for this Prometheus version (`inferwatch rules`) and check its log',
    }
  return {
    id,
    title,
    status: 'pass',
    finding: `all ${CONTRACT_ALERTS.length} inferwatch alerts loaded`,
  }
}

function alertmanagerWiring(
  ams: Awaited<ReturnType<typeof getJson<z.infer<typeof alertmanagersSchema>>>>,
  alertmanager: string | undefined,
): DoctorCheck {
  const id = 'prometheus.alertmanager'
  const title = TITLES.am
  if (!ams.ok) return { id, title, status: 'warn', finding: ams.problem }
  const urls = ams.data.data.activeAlertmanagers.map((a) => a.url)
  const fix =
    'add `alerting: { alertmanagers: [ { static_configs: [ { targets: [HOST:PORT] } ] } ] }` to prometheus.yml and reload'
  if (urls.length === 0)
    return { id, title, status: 'fail', finding: 'Prometheus sends alerts to no Alertmanager', fix }
  const want = alertmanager ? hostPortOf(alertmanager) : undefined
  if (want && !urls.some((u) => hostPortOf(u) === want))
    return {
      id,
      title,
      status: 'fail',
      finding: `Prometheus sends alerts to ${urls.join(', ')}, not to ${want}`,
      fix,
    }
  return { id, title, status: 'pass', finding: `alerts go to ${urls.join(', ')}` }
}

/** The ratio an alert expression compares against, e.g. `... > 0.95` -> 0.95 (0 < x <= 1 only). */
export function thresholdOf(query: string): number | undefined {
  const matches = [...query.matchAll(/>=?\s*(\d*\.?\d+(?:e-?\d+)?)/gi)]
  for (const m of matches.reverse()) {
    const v = Number(m[1])
    if (v > 0 && v <= 1) return v
  }
  return undefined
}
