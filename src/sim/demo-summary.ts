import type { Registry } from 'prom-client'

// A readable summary of the metrics the demo produced, computed from the registry the admin
// server exposes (the same numbers Prometheus would scrape).

interface Sample {
  name: string
  labels: Record<string, string | number>
  value: number
}

async function samples(registry: Registry): Promise<Sample[]> {
  const out: Sample[] = []
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const v of metric.values) {
      // prom-client names histogram samples (_bucket/_sum/_count) in metricName.
      const name =
        'metricName' in v && typeof v.metricName === 'string' ? v.metricName : metric.name
      out.push({ name, labels: v.labels as Record<string, string | number>, value: v.value })
    }
  }
  return out
}

/** histogram_quantile over cumulative buckets (linear inside a bucket, as Prometheus does). */
export function quantileFromBuckets(
  q: number,
  buckets: readonly { le: number; count: number }[],
): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le)
  const total = sorted.at(-1)?.count ?? 0
  if (total === 0) return undefined
  const rank = q * total
  let prevLe = 0
  let prevCount = 0
  for (const b of sorted) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe
      const inBucket = b.count - prevCount
      return inBucket === 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket
    }
    prevLe = b.le
    prevCount = b.count
  }
  return prevLe
}

function bucketsOf(all: Sample[], name: string): { le: number; count: number }[] {
  const byLe = new Map<number, number>()
  for (const s of all) {
    if (s.name !== `${name}_bucket`) continue
    const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le)
    byLe.set(le, (byLe.get(le) ?? 0) + s.value)
  }
  return [...byLe].map(([le, count]) => ({ le, count }))
}

function sumBy(all: Sample[], name: string, label: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const s of all) {
    if (s.name !== name) continue
    const key = String(s.labels[label] ?? '')
    out.set(key, (out.get(key) ?? 0) + s.value)
  }
  return out
}

const ms = (s: number | undefined) =>
  s === undefined ? 'n/a' : `${(s * 1000).toFixed(s < 0.01 ? 2 : 0)} ms`
const list = (m: Map<string, number>) =>
  m.size === 0
    ? 'none'
    : [...m]
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k || '(ok)'} ${Math.round(n)}`)
        .join(', ')

/** Several lines: requests, errors, TTFT/TPOT p50, tokens, context classes, proxy overhead. */
export async function renderMetricsSummary(registry: Registry): Promise<string> {
  const all = await samples(registry)
  const requests = sumBy(
    all,
    'gen_ai_server_request_duration_seconds_count',
    'gen_ai_operation_name',
  )
  const total = [...requests.values()].reduce((a, b) => a + b, 0)
  const lines = [`requests metered     ${Math.round(total)} (${list(requests)})`]
  if (total === 0) {
    lines.push('                     (no gen_ai_* metrics: is the meter built in?)')
  }
  lines.push(
    `by error_type        ${list(sumBy(all, 'gen_ai_server_request_duration_seconds_count', 'error_type'))}`,
    `by context_class     ${list(sumBy(all, 'gen_ai_server_request_duration_seconds_count', 'context_class'))}`,
    `TTFT p50 / p95       ${ms(quantileFromBuckets(0.5, bucketsOf(all, 'gen_ai_server_time_to_first_token_seconds')))} / ${ms(quantileFromBuckets(0.95, bucketsOf(all, 'gen_ai_server_time_to_first_token_seconds')))}`,
    `TPOT p50             ${ms(quantileFromBuckets(0.5, bucketsOf(all, 'gen_ai_server_time_per_output_token_seconds')))}`,
    `tokens               ${list(sumBy(all, 'gen_ai_client_token_usage_sum', 'gen_ai_token_type'))}`,
    `proxy overhead p50   ${ms(quantileFromBuckets(0.5, bucketsOf(all, 'inferwatch_proxy_overhead_seconds')))}`,
  )
  return `${lines.join('\n')}\n`
}
