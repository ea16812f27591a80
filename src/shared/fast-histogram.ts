// A histogram for hot paths (the meter's per-request metrics, the proxy's overhead). prom-client's
// observe() validates and hashes the label object on every call (1.6-6 µs, three or more per
// request); here a series is found by walking one Map per label value (label-tree.ts) and then
// costs a bucket search and two additions. It registers with a prom-client Registry and renders
// exactly as prom-client's Histogram does (same value records, so the text format and
// getMetricsAsJSON are unchanged).
import type { Registry } from 'prom-client'
import { LabelTree } from './label-tree.js'

interface Series {
  labels: Record<string, string>
  /** Per bucket, not cumulative; the last slot is +Inf only. */
  counts: number[]
  sum: number
  count: number
}

interface ValueRecord {
  labels: Record<string, string | number>
  sharedLabels: Record<string, string>
  value: number
  metricName: string
  exemplar: null | undefined
}

export class FastHistogram<T extends string> {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly series: LabelTree<T, Series>

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly T[],
    private readonly upperBounds: readonly number[],
    registry: Registry,
    /** Runs before every read (queued observations land first: after-io.ts). */
    private readonly beforeRead: () => void = () => {},
  ) {
    // The caller's object order is the rendered label order (as with prom-client).
    this.series = new LabelTree(labelNames, (labels) => ({
      labels: { ...labels },
      counts: new Array(upperBounds.length + 1).fill(0),
      sum: 0,
      count: 0,
    }))
    registry.registerMetric(this as never)
  }

  observe(labels: Readonly<Record<T, string>>, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`${this.name}: not a finite number: ${value}`)
    const s = this.series.get(labels)
    const bounds = this.upperBounds
    let b = 0
    while (b < bounds.length && value > (bounds[b] as number)) b++
    s.counts[b] = (s.counts[b] as number) + 1
    s.sum += value
    s.count += 1
  }

  /** Shows a series at zero before its first observation (prom-client does so for a histogram
   * without labels). */
  init(labels: Readonly<Record<T, string>>): void {
    this.series.get(labels)
  }

  reset(): void {
    this.series.clear()
  }

  /** What Registry.metrics() renders (prom-client's Histogram.getForPromString shape). */
  getForPromString(): {
    name: string
    help: string
    type: string
    values: ValueRecord[]
    aggregator: string
  } {
    this.beforeRead()
    const bucket = `${this.name}_bucket`
    const values: ValueRecord[] = []
    for (const s of this.series.all) {
      let acc = 0
      this.upperBounds.forEach((le, i) => {
        acc += s.counts[i] as number
        values.push({
          labels: { le },
          sharedLabels: s.labels,
          value: acc,
          metricName: bucket,
          exemplar: null,
        })
      })
      values.push(
        {
          labels: { le: '+Inf' },
          sharedLabels: s.labels,
          value: s.count,
          metricName: bucket,
          exemplar: null,
        },
        {
          labels: {},
          sharedLabels: s.labels,
          value: s.sum,
          metricName: `${this.name}_sum`,
          exemplar: undefined,
        },
        {
          labels: {},
          sharedLabels: s.labels,
          value: s.count,
          metricName: `${this.name}_count`,
          exemplar: undefined,
        },
      )
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    }
  }

  /** prom-client's Histogram.get(): the shared labels splayed into each record. */
  get(): {
    name: string
    help: string
    type: string
    values: {
      labels: Record<string, string | number>
      value: number
      metricName: string
      exemplar: null | undefined
    }[]
    aggregator: string
  } {
    const data = this.getForPromString()
    return {
      ...data,
      values: data.values.map(({ sharedLabels, labels, ...rest }) => ({
        ...rest,
        labels: Object.assign(labels, sharedLabels),
      })),
    }
  }
}
