// A counter for the meter's hot path, like src/shared/fast-histogram.ts (series found through its
// label tree). It registers with a prom-client Registry and renders exactly as prom-client's
// Counter does.
import type { Registry } from 'prom-client'

import { LabelTree } from '../shared/index.js'

interface Series {
  labels: Record<string, string>
  value: number
}

export class FastCounter<T extends string> {
  readonly type = 'counter'
  readonly aggregator = 'sum'
  private readonly series: LabelTree<T, Series>

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly T[],
    registry: Registry,
    /** Runs before every read (the meter's queued hooks land first). */
    private readonly beforeRead: () => void = () => {},
  ) {
    this.series = new LabelTree(labelNames, (labels) => ({ labels: { ...labels }, value: 0 }))
    registry.registerMetric(this as never)
  }

  inc(labels: Readonly<Record<T, string>>, by = 1): void {
    if (!Number.isFinite(by) || by < 0) throw new TypeError(`${this.name}: bad increment ${by}`)
    this.series.get(labels).value += by
  }

  reset(): void {
    this.series.clear()
  }

  /** prom-client's Counter.get() shape (what Registry.metrics() renders). */
  get(): {
    name: string
    help: string
    type: string
    values: { labels: Record<string, string>; value: number }[]
    aggregator: string
  } {
    this.beforeRead()
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.series.all.map((s) => ({ labels: { ...s.labels }, value: s.value })),
      aggregator: this.aggregator,
    }
  }
}
