// Helpers for the meter's tests: read prom-client values without parsing text.
import type { Registry } from 'prom-client'

type Labels = Record<string, string>

const matches = (have: Record<string, string | number>, want: Labels) =>
  Object.entries(want).every(([k, v]) => String(have[k]) === v)

/** Count and sum of the histogram series whose labels include `labels` (summed over matches). */
export async function readHistogram(
  registry: Registry,
  name: string,
  labels: Labels = {},
): Promise<{ count: number; sum: number }> {
  const metric = registry.getSingleMetric(name)
  if (!metric) throw new Error(`no metric ${name}`)
  const { values } = await metric.get()
  let count = 0
  let sum = 0
  for (const v of values as {
    labels: Record<string, string | number>
    value: number
    metricName?: string
  }[]) {
    if (!matches(v.labels, labels)) continue
    if (v.metricName === `${name}_count`) count += v.value
    if (v.metricName === `${name}_sum`) sum += v.value
  }
  return { count, sum }
}

/** Every distinct label set of a metric (bucket `le` excluded). */
export async function labelSets(registry: Registry, name: string): Promise<Labels[]> {
  const metric = registry.getSingleMetric(name)
  if (!metric) throw new Error(`no metric ${name}`)
  const { values } = await metric.get()
  const seen = new Map<string, Labels>()
  for (const v of values) {
    const { le: _le, ...rest } = v.labels as Record<string, string>
    seen.set(JSON.stringify(Object.entries(rest).sort()), rest)
  }
  return [...seen.values()]
}

export async function gaugeValue(
  registry: Registry,
  name: string,
  labels: Labels,
): Promise<number> {
  const metric = registry.getSingleMetric(name)
  if (!metric) throw new Error(`no metric ${name}`)
  const { values } = await metric.get()
  return values
    .filter((v) => matches(v.labels as Record<string, string>, labels))
    .reduce((a, v) => a + v.value, 0)
}

/** Polls `cond` (each turn of the event loop) until true or `timeoutMs` passes. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 2))
  }
}
