// Which /metrics names and API details a simulated engine release has. vLLM by release
// (https://docs.vllm.ai/en/latest/usage/metrics.html: a metric deprecated in X.Y is hidden in
// X.Y+1 and removed in X.Y+2): kv_cache_usage_perc and prefix_cache_{queries,hits} (tokens)
// arrive in 0.9.2 beside the deprecated gpu_cache_usage_perc and gpu_prefix_cache_* (hidden from
// 0.11); time_per_output_token_seconds gives way to inter_token_latency_seconds and
// request_time_per_output_token_seconds in 0.11 (hidden from 0.12); the `engine` label comes with
// V1's data parallelism (0.9); the nested OpenAI error body with 0.11. SGLang: releases before
// 0.4 export the small set of https://docs.sglang.io/references/production_metrics.html's sample
// (model_name only); later ones the scheduler/tokenizer collectors of
// https://github.com/sgl-project/sglang/blob/main/python/sglang/srt/metrics/collector.py.
// llama.cpp: builds before b5450 still export kv_cache_usage_ratio and kv_cache_tokens
// (https://github.com/ggml-org/llama.cpp/pull/13660 removed them).
import { AppError } from '../shared/index.js'
import type { SimEngine } from './simulator-types.js'

export const DEFAULT_ENGINE_VERSIONS: Readonly<Record<SimEngine, string>> = Object.freeze({
  vllm: '0.12.0',
  sglang: '0.5.5',
  tgi: '3.3.6',
  llamacpp: 'b6100',
})

export interface VllmDialect {
  engine: 'vllm'
  version: string
  /** `engine="0"` beside model_name. */
  engineLabel: boolean
  kvCacheUsagePerc: boolean
  gpuCacheUsagePerc: boolean
  /** vllm:prefix_cache_{queries,hits}_total, in tokens. */
  prefixCache: boolean
  /** vllm:gpu_prefix_cache_{queries,hits}_total: in blocks before 0.9, tokens after (deprecated). */
  gpuPrefixCache: 'blocks' | 'tokens' | false
  timePerOutputToken: 'current' | 'deprecated' | false
  interTokenLatency: boolean
  /** iteration_tokens_total buckets: the CUDA-graph capture sizes (early V1) or 1..16384. */
  iterationBuckets: 'cudagraph' | 'powers'
  errorBody: 'flat' | 'nested'
}

export interface SglangDialect {
  engine: 'sglang'
  version: string
  era: 'early' | 'current'
}

export interface TgiDialect {
  engine: 'tgi'
  version: string
}

export interface LlamacppDialect {
  engine: 'llamacpp'
  version: string
  build: number
  kvMetrics: boolean
}

export type Dialect = VllmDialect | SglangDialect | TgiDialect | LlamacppDialect

/** [major, minor, patch] of "0.10", "v0.10.1", "0.11.0rc2"; undefined when not a version. */
export function parseSemver(v: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[.+-]?[0-9A-Za-z.+-]*)?$/.exec(v.trim())
  if (!m) return undefined
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)]
}

const atLeast = (v: [number, number, number], w: [number, number, number]) =>
  v[0] !== w[0] ? v[0] > w[0] : v[1] !== w[1] ? v[1] > w[1] : v[2] >= w[2]

function badVersion(engine: SimEngine, version: string, example: string): AppError {
  return new AppError(
    'USAGE',
    `--engine-version for ${engine} must look like ${example}, got "${version}"`,
    {
      hint: `e.g. --engine-version ${DEFAULT_ENGINE_VERSIONS[engine]}`,
    },
  )
}

export function resolveDialect(engine: SimEngine, requested: string | undefined): Dialect {
  const version = requested ?? DEFAULT_ENGINE_VERSIONS[engine]
  if (engine === 'llamacpp') {
    const m = /^b?(\d+)$/.exec(version.trim())
    if (!m) throw badVersion(engine, version, 'b4748 (a build number)')
    const build = Number(m[1])
    return { engine, version: `b${build}`, build, kvMetrics: build < 5450 }
  }
  const v = parseSemver(version)
  if (!v) throw badVersion(engine, version, '0.10 or 0.10.1')
  const normalized = v.join('.')
  if (engine === 'sglang')
    return { engine, version: normalized, era: atLeast(v, [0, 4, 0]) ? 'current' : 'early' }
  if (engine === 'tgi') return { engine, version: normalized }
  const newKv = atLeast(v, [0, 9, 2])
  const hidesOld = atLeast(v, [0, 11, 0])
  return {
    engine,
    version: normalized,
    engineLabel: atLeast(v, [0, 9, 0]),
    kvCacheUsagePerc: newKv,
    gpuCacheUsagePerc: !hidesOld,
    prefixCache: newKv,
    gpuPrefixCache: hidesOld
      ? false
      : newKv
        ? 'tokens'
        : atLeast(v, [0, 9, 0])
          ? 'tokens'
          : 'blocks',
    timePerOutputToken: atLeast(v, [0, 12, 0]) ? false : hidesOld ? 'deprecated' : 'current',
    interTokenLatency: hidesOld,
    iterationBuckets: atLeast(v, [0, 9, 0]) ? 'powers' : 'cudagraph',
    errorBody: hidesOld ? 'nested' : 'flat',
  }
}
