// Series lookup for hot-path metrics (fast-histogram.ts, the meter's counter): a series is found by
// walking one Map per label value instead of prom-client's validate-and-hash of the label object on
// every call. Callers keep the values bounded (src/meter/meter.ts). Series are kept in first-seen
// order, as prom-client lists them.

type Node<S> = Map<string, Node<S> | S>

export class LabelTree<T extends string, S> {
  private root: Node<S> = new Map()
  /** In first-seen order. */
  all: S[] = []

  constructor(
    private readonly labelNames: readonly T[],
    /** Makes the series for labels seen for the first time (copy them: the caller may reuse). */
    private readonly make: (labels: Readonly<Record<T, string>>) => S,
  ) {}

  get(labels: Readonly<Record<T, string>>): S {
    const names = this.labelNames
    let node = this.root
    const last = names.length - 1
    for (let i = 0; i < last; i++) {
      const v = labels[names[i] as T]
      let next = node.get(v) as Node<S> | undefined
      if (!next) {
        next = new Map()
        node.set(v, next)
      }
      node = next
    }
    const leaf = labels[names[last] as T]
    let s = node.get(leaf) as S | undefined
    if (!s) {
      s = this.make(labels)
      node.set(leaf, s)
      this.all.push(s)
    }
    return s
  }

  clear(): void {
    this.root = new Map()
    this.all = []
  }
}
