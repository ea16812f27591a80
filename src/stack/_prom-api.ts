import { z } from 'zod'
import { AppError } from '../shared/index.js'

// The few Prometheus and Alertmanager HTTP APIs `up` uses
// (https://prometheus.io/docs/prometheus/latest/querying/api/,
// https://prometheus.io/docs/prometheus/latest/management_api/). Replies are parsed, not cast.

const targetsReply = z.object({
  data: z.object({
    activeTargets: z.array(
      z.object({
        scrapePool: z.string(),
        scrapeUrl: z.string(),
        health: z.string(),
        lastError: z.string().default(''),
      }),
    ),
  }),
})
export type Target = z.infer<typeof targetsReply>['data']['activeTargets'][number]

const alertsReply = z.object({
  data: z.object({
    alerts: z.array(
      z.object({
        labels: z.record(z.string(), z.string()),
        annotations: z.record(z.string(), z.string()).default({}),
        state: z.string(),
        activeAt: z.string().optional(),
        value: z.string().optional(),
      }),
    ),
  }),
})
export type PromAlert = z.infer<typeof alertsReply>['data']['alerts'][number]

async function getJson(url: string, doFetch: typeof fetch): Promise<unknown> {
  const res = await doFetch(url, { signal: AbortSignal.timeout(5000) })
  if (!res.ok) {
    await res.arrayBuffer()
    throw new Error(`GET ${url}: HTTP ${res.status}`)
  }
  return res.json()
}

export async function listTargets(promUrl: string, doFetch: typeof fetch): Promise<Target[]> {
  return targetsReply.parse(await getJson(`${promUrl}/api/v1/targets?state=active`, doFetch)).data
    .activeTargets
}

export async function listAlerts(promUrl: string, doFetch: typeof fetch): Promise<PromAlert[]> {
  return alertsReply.parse(await getJson(`${promUrl}/api/v1/alerts`, doFetch)).data.alerts
}

/** Waits until every active target has been scraped up; returns the ones still not up. */
export async function waitTargetsUp(
  promUrl: string,
  doFetch: typeof fetch,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Target[]> {
  const deadline = Date.now() + timeoutMs
  let last: Target[] = []
  while (Date.now() < deadline && !signal?.aborted) {
    try {
      const targets = await listTargets(promUrl, doFetch)
      last = targets.filter((t) => t.health !== 'up')
      if (targets.length > 0 && last.length === 0) return []
    } catch {}
    await new Promise((r) => setTimeout(r, 250))
  }
  return last
}

/** POST /-/reload (Prometheus needs --web.enable-lifecycle); STACK_CHILD_FAILED with its answer. */
export async function reloadDaemon(name: string, url: string, doFetch: typeof fetch) {
  let status = 0
  let text = ''
  try {
    const res = await doFetch(`${url}/-/reload`, {
      method: 'POST',
      signal: AbortSignal.timeout(15_000),
    })
    status = res.status
    text = (await res.text()).trim()
  } catch (err) {
    text = (err as Error).message
  }
  if (status !== 200)
    throw new AppError('STACK_CHILD_FAILED', `${name} did not reload its config: ${text}`, {
      hint: `${name} keeps the previous config; fix the file and save it again`,
    })
}
