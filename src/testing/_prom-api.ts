// Small clients for the Prometheus and Alertmanager HTTP APIs, used by tests. Responses are
// foreign data: parsed, never cast.

export interface Sample {
  labels: Record<string, string>
  value: number
}

export interface PromAlert {
  labels: Record<string, string>
  annotations: Record<string, string>
  state: 'pending' | 'firing' | 'inactive'
  value: number
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function stringMap(v: unknown): Record<string, string> {
  if (!isRecord(v)) return {}
  const out: Record<string, string> = {}
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x
  return out
}

async function getJsonData(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
  const body: unknown = await res.json()
  if (!res.ok || !isRecord(body) || body.status !== 'success') {
    throw new Error(`GET ${url} -> ${res.status}: ${JSON.stringify(body).slice(0, 500)}`)
  }
  return body.data
}

/** Instant query; returns the vector (scalars come back as one sample without labels). */
export async function queryPrometheus(baseUrl: string, expr: string): Promise<Sample[]> {
  const data = await getJsonData(`${baseUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)
  if (!isRecord(data)) return []
  if (data.resultType === 'scalar' && Array.isArray(data.result)) {
    return [{ labels: {}, value: Number(data.result[1]) }]
  }
  if (!Array.isArray(data.result)) return []
  return data.result.filter(isRecord).map((r) => ({
    labels: stringMap(r.metric),
    value: Array.isArray(r.value) ? Number(r.value[1]) : Number.NaN,
  }))
}

/** Alerts Prometheus currently holds (pending or firing). */
export async function listPrometheusAlerts(baseUrl: string): Promise<PromAlert[]> {
  const data = await getJsonData(`${baseUrl}/api/v1/alerts`)
  if (!isRecord(data) || !Array.isArray(data.alerts)) return []
  return data.alerts.filter(isRecord).map((a) => ({
    labels: stringMap(a.labels),
    annotations: stringMap(a.annotations),
    state: a.state === 'firing' || a.state === 'pending' ? a.state : 'inactive',
    value: Number(a.value),
  }))
}

/** Scrape targets' health by job (`up` as Prometheus sees it). */
export async function listPrometheusTargets(
  baseUrl: string,
): Promise<{ job: string; instance: string; health: string; lastError: string }[]> {
  const data = await getJsonData(`${baseUrl}/api/v1/targets?state=active`)
  if (!isRecord(data) || !Array.isArray(data.activeTargets)) return []
  return data.activeTargets.filter(isRecord).map((t) => {
    const labels = stringMap(t.labels)
    return {
      job: labels.job ?? '',
      instance: labels.instance ?? '',
      health: typeof t.health === 'string' ? t.health : '',
      lastError: typeof t.lastError === 'string' ? t.lastError : '',
    }
  })
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 200 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      const v = await check()
      if (v !== undefined) return v
    } catch (err) {
      lastError = err
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
  )
}
