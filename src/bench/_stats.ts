import type { Distribution } from './types.js'

// Percentiles by linear interpolation between closest ranks (numpy's default, as `vllm bench
// serve` reports them), population standard deviation.

/** The q-quantile (0..1) of an ascending array; NaN when empty. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length
  if (n === 0) return Number.NaN
  const pos = (n - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.min(n - 1, lo + 1)
  const a = sorted[lo] as number
  return a + ((sorted[hi] as number) - a) * (pos - lo)
}

export function describe(values: ArrayLike<number>): Distribution {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort()
  const n = sorted.length
  let sum = 0
  for (let i = 0; i < n; i++) sum += sorted[i] as number
  const mean = n ? sum / n : Number.NaN
  let sq = 0
  for (let i = 0; i < n; i++) sq += ((sorted[i] as number) - mean) ** 2
  return {
    count: n,
    mean,
    std: n ? Math.sqrt(sq / n) : Number.NaN,
    p50: quantileSorted(sorted, 0.5),
    p90: quantileSorted(sorted, 0.9),
    p95: quantileSorted(sorted, 0.95),
    p99: quantileSorted(sorted, 0.99),
    p999: quantileSorted(sorted, 0.999),
    min: n ? (sorted[0] as number) : Number.NaN,
    max: n ? (sorted[n - 1] as number) : Number.NaN,
  }
}

/** A seeded PRNG (mulberry32): the same seed gives the same lengths and arrivals. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Standard normal by Box-Muller. */
export function normal(rand: () => number): number {
  const u = 1 - rand()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand())
}

/** Gamma(shape, scale 1) by Marsaglia-Tsang (shape < 1 boosted by U^(1/shape)). */
export function gamma(rand: () => number, shape: number): number {
  if (shape < 1) return gamma(rand, shape + 1) * rand() ** (1 / shape)
  const d = shape - 1 / 3
  const c = 1 / Math.sqrt(9 * d)
  for (;;) {
    let x: number
    let v: number
    do {
      x = normal(rand)
      v = 1 + c * x
    } while (v <= 0)
    v = v * v * v
    const u = rand()
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v)))
      return d * v
  }
}
