import { createRandom, gamma, normal } from './_stats.js'
import type { Arrivals, LengthDistribution } from './types.js'

// Lengths and arrival gaps, drawn from one seeded stream each so a run can be repeated exactly.
// Gamma gaps with shape = burstiness and mean 1/rate are `vllm bench serve`'s arrival process
// (burstiness 1: exponential gaps, a Poisson process); unlike it, the gaps are not rescaled to
// land the last request at N/rate, which would bend the distribution.

export function createLengthSampler(d: LengthDistribution, seed: number): () => number {
  const rand = createRandom(seed)
  switch (d.kind) {
    case 'fixed':
      return () => d.tokens
    case 'uniform':
      return () => d.min + Math.floor(rand() * (d.max - d.min + 1))
    case 'normal':
      return () => Math.min(d.max, Math.max(d.min, Math.round(d.mean + d.std * normal(rand))))
  }
}

/** Milliseconds to the next arrival; undefined for a closed loop. */
export function createGapSampler(a: Arrivals, seed: number): (() => number) | undefined {
  const rand = createRandom(seed)
  switch (a.kind) {
    case 'closed':
      return undefined
    case 'constant':
      return () => 1000 / a.ratePerSecond
    case 'gamma': {
      const scale = 1000 / (a.ratePerSecond * a.burstiness)
      return a.burstiness === 1
        ? () => -Math.log(1 - rand()) * (1000 / a.ratePerSecond)
        : () => gamma(rand, a.burstiness) * scale
    }
  }
}

export function describeLengths(d: LengthDistribution): string {
  switch (d.kind) {
    case 'fixed':
      return String(d.tokens)
    case 'uniform':
      return `uniform ${d.min}..${d.max}`
    case 'normal':
      return `normal ${d.mean}±${d.std} (${d.min}..${d.max})`
  }
}
