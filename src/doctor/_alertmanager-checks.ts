import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { joinUrl, probeUrl } from '../engines/index.js'
import { getJson, hostPortOf } from './_http-json.js'
import type { DoctorCheck, DoctorOptions } from './types.js'

// Alertmanager API v2 GET /api/v2/status returns the loaded config as YAML text (config.original);
// the relay listens on the admin address at POST /hooks/alertmanager (README: Alert relay).

const RELAY_PATH = '/hooks/alertmanager'

const statusSchema = z.object({
  config: z.object({ original: z.string() }),
  versionInfo: z.object({ version: z.string() }).partial().nullish(),
})

type Route = { receiver?: string | undefined; routes?: Route[] | undefined }
const routeSchema: z.ZodType<Route> = z.lazy(() =>
  z.object({ receiver: z.string().optional(), routes: z.array(routeSchema).optional() }),
)

const configSchema = z.object({
  route: routeSchema.optional(),
  receivers: z
    .array(
      z.object({
        name: z.string(),
        webhook_configs: z
          .array(z.object({ url: z.string().optional(), url_file: z.string().optional() }))
          .optional(),
      }),
    )
    .default([]),
})

export async function checkAlertmanager(options: DoctorOptions): Promise<DoctorCheck> {
  const id = 'alertmanager.relay'
  const title = 'Alertmanager → relay receiver'
  const am = options.alertmanager?.replace(/\/+$/, '')
  if (!am) return { id, title, status: 'skip', finding: 'no --alertmanager URL given' }
  const status = await getJson(`${am}/api/v2/status`, statusSchema, {
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
  })
  if (!status.ok)
    return {
      id,
      title,
      status: 'fail',
      finding: status.problem,
      fix: status.refused
        ? 'start Alertmanager (`prometheus-alertmanager --config.file=DIR/alertmanager.yml`, written by `inferwatch rules --out DIR`) or pass the right --alertmanager URL'
        : 'check that --alertmanager is the Alertmanager base URL (e.g. http://127.0.0.1:9093)',
    }
  let config: z.infer<typeof configSchema>
  try {
    config = configSchema.parse(parseYaml(status.data.config.original))
  } catch (err) {
    return {
      id,
      title,
      status: 'warn',
      finding: `cannot read the config Alertmanager reports: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    }
  }
  const version = status.data.versionInfo?.version ? ` ${status.data.versionInfo.version}` : ''
  const fix = `add a receiver with \`webhook_configs: [ { url: http://ADMIN${RELAY_PATH} } ]\` (\`inferwatch rules --out DIR\` writes alertmanager.yml), route alerts to it, and reload Alertmanager`
  const hooks = config.receivers.flatMap((r) =>
    (r.webhook_configs ?? []).map((w) => ({
      receiver: r.name,
      url: w.url ?? '',
      file: w.url_file,
    })),
  )
  const relay = hooks.filter((h) => h.url.includes(RELAY_PATH))
  const hidden = hooks.filter((h) => h.url === '<secret>' || h.file)
  if (relay.length === 0 && hidden.length > 0)
    return {
      id,
      title,
      status: 'warn',
      finding: `Alertmanager${version} hides webhook URLs (${hidden.map((h) => h.receiver).join(', ')}), so the relay receiver cannot be confirmed`,
      fix: `make sure one of them is http://ADMIN${RELAY_PATH}`,
    }
  if (relay.length === 0)
    return {
      id,
      title,
      status: 'fail',
      finding: `Alertmanager${version} answers, but no receiver posts to ${RELAY_PATH}: alerts never reach the chat relay`,
      fix,
    }
  const routed = new Set<string>()
  const walk = (r: Route | undefined) => {
    if (!r) return
    if (r.receiver) routed.add(r.receiver)
    for (const c of r.routes ?? []) walk(c)
  }
  walk(config.route)
  const used = relay.filter((h) => routed.has(h.receiver))
  if (used.length === 0)
    return {
      id,
      title,
      status: 'fail',
      finding: `receiver ${relay[0]?.receiver} posts to the relay, but no route sends alerts to it`,
      fix: `set \`route: { receiver: ${relay[0]?.receiver} }\` (or a child route) in alertmanager.yml and reload`,
    }
  const admin = options.adminUrl ? hostPortOf(options.adminUrl) : undefined
  const target = used.find((h) => !admin || hostPortOf(h.url) === admin)
  if (!target)
    return {
      id,
      title,
      status: 'warn',
      finding: `the relay receiver posts to ${used.map((h) => h.url).join(', ')}, not to the admin address ${admin}`,
      fix: `point the webhook at http://${admin}${RELAY_PATH}`,
    }
  return {
    id,
    title,
    status: 'pass',
    finding: `Alertmanager${version}: receiver ${target.receiver} posts to ${target.url}`,
  }
}

export async function checkAdmin(options: DoctorOptions): Promise<DoctorCheck> {
  const id = 'inferwatch.admin'
  const title = 'inferwatch admin /metrics'
  const admin = options.adminUrl?.replace(/\/+$/, '')
  if (!admin) return { id, title, status: 'skip', finding: 'no --admin URL given' }
  const res = await probeUrl(joinUrl(admin, '/metrics'), {
    timeoutMs: options.timeoutMs ?? 3000,
    ...(options.adminToken ? { headers: { authorization: `Bearer ${options.adminToken}` } } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  })
  if (!res.ok)
    return {
      id,
      title,
      status: 'fail',
      finding: `${admin}/metrics: ${res.message}`,
      fix: 'start `inferwatch proxy` and check --admin (default 127.0.0.1:9464)',
    }
  if (res.status === 401 || res.status === 403)
    return {
      id,
      title,
      status: 'warn',
      finding: `${admin}/metrics answers ${res.status}: it needs the admin token`,
      fix: 'pass --config with adminToken set so doctor can read it (Prometheus needs the same bearer token)',
    }
  if (res.status !== 200 || !/^inferwatch_build_info\b/m.test(res.body))
    return {
      id,
      title,
      status: 'fail',
      finding: `${admin}/metrics -> HTTP ${res.status} without inferwatch_build_info`,
      fix: 'that address is not the inferwatch admin server; check --admin',
    }
  return { id, title, status: 'pass', finding: `${admin}/metrics serves inferwatch metrics` }
}
