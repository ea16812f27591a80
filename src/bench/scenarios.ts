// Presets. `long-context` is the alert rehearsal: requests long enough to be classed `long`
// (README: Metrics, context_class) yet inside the target's max_model_len and its KV cache, at a
// concurrency the cache holds without preemption, for long enough (5 minutes of window and 2 of
// `for`) to fire LLMLongContextOverload. `chat` is a conversational mix: a shared system prompt,
// normally distributed turns, Poisson arrivals.
import { discoverEngine } from '../engines/index.js'
import { AppError } from '../shared/index.js'
import type { LengthDistribution } from './types.js'

export type ScenarioName = 'long-context' | 'chat'
export const SCENARIOS: readonly ScenarioName[] = ['long-context', 'chat']

export interface TargetFacts {
  models: string[]
  maxModelLen?: number
  kvCacheTokens?: number
  provider: string
}

export async function readTargetFacts(baseUrl: string, apiKey?: string): Promise<TargetFacts> {
  const info = await discoverEngine(baseUrl, apiKey ? { apiKey } : {})
  return {
    models: info.models,
    provider: info.provider,
    ...(info.maxModelLen !== undefined ? { maxModelLen: info.maxModelLen } : {}),
    ...(info.kvCacheTokens !== undefined ? { kvCacheTokens: info.kvCacheTokens } : {}),
  }
}

export interface ScenarioDefaults {
  input: LengthDistribution
  output: LengthDistribution
  sharedPrefixTokens: number
  concurrency: number
  ratePerSecond?: number
  durationMs: number
  warmupRequests: number
  why: string
}

/** Room left for the chat template and the engine's own accounting. */
const MARGIN = 32

export function longContextScenario(facts: TargetFacts, longFromTokens: number): ScenarioDefaults {
  const output = 64
  const maxLen = facts.maxModelLen
  if (maxLen === undefined)
    throw new AppError(
      'BENCH_SCENARIO_UNFIT',
      'the target did not say its max_model_len (/v1/models, /info, /props)',
      {
        hint: 'give --input-tokens yourself, at least the long-context threshold (100000 by default)',
      },
    )
  const kv = facts.kvCacheTokens ?? maxLen
  const input = Math.min(maxLen, kv) - output - MARGIN
  if (input < longFromTokens)
    throw new AppError(
      'BENCH_SCENARIO_UNFIT',
      `the longest request this target takes is ${input} prompt tokens (max_model_len ${maxLen}, KV cache ${kv} tokens), below the long-context threshold ${longFromTokens}`,
      {
        hint: 'serve a longer --max-model-len with more KV cache (e.g. a higher --gpu-memory-utilization), or pass --long-from-tokens to match a lower contextClasses.longFromTokens',
      },
    )
  const concurrency = Math.max(1, Math.floor(kv / (input + output)))
  return {
    input: { kind: 'fixed', tokens: input },
    output: { kind: 'fixed', tokens: output },
    sharedPrefixTokens: 0,
    concurrency,
    durationMs: 8 * 60_000,
    warmupRequests: 0,
    why: `${input}-token prompts (max_model_len ${maxLen}, KV cache ${kv} tokens), ${concurrency} at a time, 8 minutes: every request is long-context, past the 30 % share for the 2 minutes LLMLongContextOverload waits`,
  }
}

export function chatScenario(facts: TargetFacts): ScenarioDefaults {
  const cap = Math.max(64, (facts.maxModelLen ?? 32768) - 1024 - MARGIN)
  return {
    input: {
      kind: 'normal',
      mean: Math.min(1024, cap),
      std: 512,
      min: 320,
      max: Math.min(8192, cap),
    },
    output: { kind: 'normal', mean: 256, std: 128, min: 16, max: 1024 },
    sharedPrefixTokens: 256,
    concurrency: 64,
    ratePerSecond: 4,
    durationMs: 2 * 60_000,
    warmupRequests: 2,
    why: 'a shared 256-token system prompt, turns of ~1024 ± 512 prompt and ~256 ± 128 output tokens, Poisson arrivals at 4 req/s, 2 minutes',
  }
}
