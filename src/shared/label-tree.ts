// Series lookup for hot-path metrics (fast-histogram.ts, the meter's counter): a series is found by
// walking one Map per label value instead of prom-client's validate-and-hash of the label object on
// every call. Callers keep the values bounded (src/meter/meter.ts). Series are kept in first-seen
// order, as prom-client lists them.
//
// The walk is cached: when every value but the last equals the previous call's, the previous
// leaf map is reused, and the series itself when the last one matches too. A meter records
// several series per request that share their leading labels (input then output tokens of one
// model and class), so most calls cost a few string comparisons.

type Node<S> = Map<string, Node<S> | S>

export class LabelTree<T extends string, S> {
  private root: Node<S> = new Map()
  /** In first-seen order. */
  all: S[] = []
  /** The values of the previous call, its leaf map and its series. */
  private lastValues: (string | undefined)[]
  private lastLeafMap: Node<S> | undefined
  private lastSeries: S | undefined

  constructor(
    private readonly labelNames: readonly T[],
    /** Makes the series for labels seen for the first time (copy them: the caller may reuse). */
    private readonly make: (labels: Readonly<Record<T, string>>) => S,
  ) {
    this.lastValues = labelNames.map(() => undefined)
  }

  get(labels: Readonly<Record<T, string>>): S {
    const names = this.labelNames
    const lastValues = this.lastValues
    const last = names.length - 1
    if (last < 0) return this.unlabelled(labels)
    let same = this.lastLeafMap !== undefined
    for (let i = 0; same && i < last; i++) same = labels[names[i] as T] === lastValues[i]
    const leaf = labels[names[last] as T]
    if (same) {
      if (leaf === lastValues[last]) return this.lastSeries as S
    } else {
      let node = this.root
      for (let i = 0; i < last; i++) {
        const v = labels[names[i] as T]
        lastValues[i] = v
        let next = node.get(v) as Node<S> | undefined
        if (!next) {
          next = new Map()
          node.set(v, next)
        }
        node = next
      }
      this.lastLeafMap = node
    }
    const node = this.lastLeafMap as Node<S>
    let s = node.get(leaf) as S | undefined
    if (!s) {
      s = this.make(labels)
      node.set(leaf, s)
      this.all.push(s)
    }
    lastValues[last] = leaf
    this.lastSeries = s
    return s
  }

  /** No label names: one series. */
  private unlabelled(labels: Readonly<Record<T, string>>): S {
    if (this.lastSeries === undefined) {
      this.lastSeries = this.make(labels)
      this.all.push(this.lastSeries)
    }
    return this.lastSeries
  }

  clear(): void {
    this.root = new Map()
    this.all = []
    this.lastLeafMap = undefined
    this.lastSeries = undefined
  }
}
