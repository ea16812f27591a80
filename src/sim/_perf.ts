// How long one engine step takes on the simulated card: a roofline of the capacity model behind
// `inferwatch plan` (src/plan). A step reads every weight once and the KV cache of each sequence
// it touches (memory-bound: bytes / bandwidth, what plan's decode ceiling uses), and computes
// 2 x active parameters FLOPs per token plus attention over the context, 4 x layers x heads x
// head_dim FLOPs per (token, earlier token) pair (compute-bound: FLOPs / dense BF16 FLOP/s). It
// takes the longer of the two. Peak figures throughout, like plan: real kernels reach a fraction
// of them, so the simulated engine is as fast as the card could possibly be.
import { type PlanResult, weightBytesPerStep } from '../plan/index.js'

export interface PerfModel {
  /** Seconds for a step with these prefill chunks and decode sequences. */
  stepSeconds(step: StepShape): StepTiming
  /** A lone prefill of `tokens` prompt tokens, in chunks of `chunk` (TTFT of an idle engine). */
  prefillSeconds(tokens: number, chunk: number): number
  /** One decode step of `batch` sequences holding `contextTokens` tokens of KV in all. */
  decodeStepSeconds(batch: number, contextTokens: number): number
  flopsPerSecond: number
  bandwidthBytesPerSecond: number
}

export interface StepShape {
  /** Prefill chunks: tokens computed now and tokens already in the KV cache before them. */
  chunks: readonly { tokens: number; before: number }[]
  decodeSeqs: number
  /** KV tokens the decode sequences read (their whole context). */
  decodeContextTokens: number
}

export interface StepTiming {
  seconds: number
  /** Seconds the step would take if only compute counted (GPU power follows it). */
  computeSeconds: number
  /** Seconds of memory traffic (nvidia-smi utilization.memory follows it). */
  memorySeconds: number
}

/** FLOP/s when a GPU profile has no figure: about an RTX 4090 D. */
const FALLBACK_FLOPS = 147e12

export function createPerfModel(plan: PlanResult, flopsPerSecond: number | undefined): PerfModel {
  const m = plan.model
  const flops = flopsPerSecond ?? FALLBACK_FLOPS
  const bw = plan.gpu.bandwidthBytesPerSecond
  const kvPerToken = plan.kvBytesPerToken
  const attentionPerPair = 4 * m.layers * m.attentionHeads * m.headDim
  /** Attention FLOPs of `tokens` new tokens after `before` cached ones (causal: token i sees i). */
  const attention = (tokens: number, before: number) =>
    attentionPerPair * tokens * (before + (tokens + 1) / 2)

  const stepSeconds = (s: StepShape): StepTiming => {
    let tokens = s.decodeSeqs
    let attn = attentionPerPair * s.decodeContextTokens
    let kvRead = s.decodeContextTokens
    for (const c of s.chunks) {
      tokens += c.tokens
      attn += attention(c.tokens, c.before)
      kvRead += c.before + c.tokens
    }
    if (tokens === 0) return { seconds: 0, computeSeconds: 0, memorySeconds: 0 }
    const seqs = s.decodeSeqs + s.chunks.length
    const computeSeconds = (2 * m.activeParams * tokens + attn) / flops
    const memorySeconds = (weightBytesPerStep(m, seqs) + kvRead * kvPerToken) / bw
    return { seconds: Math.max(computeSeconds, memorySeconds), computeSeconds, memorySeconds }
  }

  return {
    stepSeconds,
    prefillSeconds(tokens, chunk) {
      let total = 0
      for (let done = 0; done < tokens; done += chunk) {
        const n = Math.min(chunk, tokens - done)
        total += stepSeconds({
          chunks: [{ tokens: n, before: done }],
          decodeSeqs: 0,
          decodeContextTokens: 0,
        }).seconds
      }
      return total
    },
    decodeStepSeconds: (batch, contextTokens) =>
      stepSeconds({ chunks: [], decodeSeqs: batch, decodeContextTokens: contextTokens }).seconds,
    flopsPerSecond: flops,
    bandwidthBytesPerSecond: bw,
  }
}
