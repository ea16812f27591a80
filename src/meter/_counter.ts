// A counter for the meter's hot path, like _histogram.ts: a series is found by walking one Map per
// label value (bounded values) instead of prom-client's validate-and-hash per inc(). It registers
// with a prom-client Registry and renders exactly as prom-client's Counter does.
import type { Registry } from 'prom-client'

interface Series {
  labels: Record<string, string>
  value: number
}

type Node = Map<string, Node | Series>

export class FastCounter<T extends string> {
  readonly type = 'counter'
  readonly aggregator = 'sum'
  private root: Node = new Map()
  /** In first-seen order, as prom-client lists its series. */
  private all: Series[] = []

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly T[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never)
  }

  inc(labels: Readonly<Record<T, string>>, by = 1): void {
    if (!Number.isFinite(by) || by < 0) throw new TypeError(`${this.name}: bad increment ${by}`)
    const names = this.labelNames
    let node = this.root
    const last = names.length - 1
    for (let i = 0; i < last; i++) {
      const v = labels[names[i] as T]
      let next = node.get(v) as Node | undefined
      if (!next) {
        next = new Map()
        node.set(v, next)
      }
      node = next
    }
    const leaf = labels[names[last] as T]
    let s = node.get(leaf) as Series | undefined
    if (!s) {
      s = { labels: { ...labels }, value: 0 }
      node.set(leaf, s)
      this.all.push(s)
    }
    s.value += by
  }

  reset(): void {
    this.root = new Map()
    this.all = []
  }

  /** prom-client's Counter.get() shape (what Registry.metrics() renders). */
  get(): {
    name: string
    help: string
    type: string
    values: { labels: Record<string, string>; value: number }[]
    aggregator: string
  } {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.all.map((s) => ({ labels: { ...s.labels }, value: s.value })),
      aggregator: this.aggregator,
    }
  }
}
