import {
  type LlamaProps,
  llamaErrorSchema,
  type ModelsList,
  parseJsonAs,
  type SglangModelInfo,
  type SglangServerInfo,
  type TgiInfo,
} from './_schemas.js'
import { joinUrl, type ProbeResult } from './probe.js'
import {
  detectMetricPrefixes,
  findSamples,
  type PromExposition,
  parsePrometheusText,
} from './prom-text.js'
import type { EngineHealth, EngineInfo, EngineMetricsInfo, EngineProvider } from './types.js'

// Reading one fact each from the probe results of discoverEngine (API docs listed in _schemas.ts).

export function pickModels(
  provider: EngineProvider,
  models: ModelsList | undefined,
  tgi: TgiInfo | undefined,
  props: LlamaProps | undefined,
  sglModel: SglangModelInfo | undefined,
  sglServer: SglangServerInfo | undefined,
): string[] {
  if (models && models.data.length > 0) return [...new Set(models.data.map((m) => m.id))]
  if (provider === 'tgi' && tgi) return [tgi.model_id]
  if (provider === 'sglang') {
    const name = sglServer?.served_model_name ?? sglModel?.model_path ?? sglServer?.model_path
    return name ? [name] : []
  }
  if (provider === 'llamacpp' && props) {
    const name = props.model_alias || props.model_path
    return name ? [name] : []
  }
  return []
}

export function pickVersion(
  provider: EngineProvider,
  ...candidates: (string | null | undefined)[]
): string | undefined {
  const [vllm, tgi, sglang, llama] = candidates
  const byProvider: Record<EngineProvider, string | null | undefined> = {
    vllm,
    tgi,
    sglang: sglang ?? vllm,
    llamacpp: llama,
    openai: vllm,
  }
  return byProvider[provider] ?? undefined
}

export function pickMaxLen(
  provider: EngineProvider,
  models: ModelsList | undefined,
  tgi: TgiInfo | undefined,
  props: LlamaProps | undefined,
  sglServer: SglangServerInfo | undefined,
  exposition: PromExposition | undefined,
): number | undefined {
  // The base model (no parent) carries the engine's max_model_len; LoRA adapters repeat it.
  const listed = models?.data.find((m) => !m.parent && m.max_model_len)?.max_model_len
  switch (provider) {
    case 'tgi':
      return tgi?.max_total_tokens
    case 'llamacpp':
      // n_ctx is what one request can use (the -c total split over the -np slots); /v1/models
      // `meta.n_ctx_train` is the model's training context, which the server may not serve, so
      // it is no fallback (https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md).
      return props?.default_generation_settings.n_ctx ?? undefined
    case 'sglang': {
      const gauge = exposition ? findSamples(exposition, 'sglang:context_len')[0]?.value : undefined
      return sglServer?.context_length ?? listed ?? (gauge && gauge > 0 ? gauge : undefined)
    }
    default:
      return listed ?? undefined
  }
}

export function readCapacity(
  info: EngineInfo,
  exposition: PromExposition | undefined,
  sglServer: SglangServerInfo | undefined,
): void {
  // vLLM: cache_config_info labels (https://docs.vllm.ai/en/latest/usage/metrics.html);
  // KV tokens = num_gpu_blocks × block_size.
  const cache = exposition ? findSamples(exposition, 'vllm:cache_config_info')[0] : undefined
  if (cache) {
    const util = Number(cache.labels.gpu_memory_utilization)
    if (cache.labels.gpu_memory_utilization && util > 0 && util <= 1)
      info.gpuMemoryUtilization = util
    const blocks = Number(cache.labels.num_gpu_blocks)
    const blockSize = Number(cache.labels.block_size)
    if (Number.isInteger(blocks) && Number.isInteger(blockSize) && blocks > 0 && blockSize > 0)
      info.kvCacheTokens = blocks * blockSize
  }
  if (sglServer?.mem_fraction_static) info.gpuMemoryUtilization ??= sglServer.mem_fraction_static
  const sglTokens =
    sglServer?.max_total_num_tokens ??
    (exposition ? findSamples(exposition, 'sglang:max_total_num_tokens')[0]?.value : undefined)
  if (sglTokens && sglTokens > 0 && info.provider === 'sglang') info.kvCacheTokens ??= sglTokens
}

export function readMetrics(
  base: string,
  probe: ProbeResult | undefined,
): { metrics: EngineMetricsInfo; exposition?: PromExposition } {
  const url = joinUrl(base, '/metrics')
  if (probe === undefined || !probe.ok) {
    const why = probe === undefined ? 'not probed' : probe.message
    return { metrics: { served: false, url, prefixes: [], detail: `GET /metrics: ${why}` } }
  }
  if (probe.status !== 200) {
    const llama = parseJsonAs(llamaErrorSchema, probe.body)
    const detail = llama ? llama.error.message : `GET /metrics answers HTTP ${probe.status}`
    return { metrics: { served: false, url, prefixes: [], httpStatus: probe.status, detail } }
  }
  try {
    const exposition = parsePrometheusText(probe.body)
    if (exposition.samples.length === 0) throw new Error('no samples')
    return {
      metrics: {
        served: true,
        path: '/metrics',
        url,
        prefixes: detectMetricPrefixes(exposition),
        httpStatus: 200,
      },
      exposition,
    }
  } catch (err) {
    return {
      metrics: {
        served: false,
        url,
        prefixes: [],
        httpStatus: 200,
        detail: `GET /metrics answers 200 but not Prometheus text (${err instanceof Error ? err.message : String(err)})`,
      },
    }
  }
}

export function isLlamaLoading(probe: ProbeResult | undefined): boolean {
  if (!probe?.ok || probe.status !== 503) return false
  const body = parseJsonAs(llamaErrorSchema, probe.body)
  return body?.error.type === 'unavailable_error'
}

export function readHealth(probe: ProbeResult | undefined, modelsAnswer: boolean): EngineHealth {
  if (!probe) return { status: 'unknown', detail: 'GET /health not probed' }
  if (!probe.ok) return { status: 'unhealthy', detail: `GET /health: ${probe.message}` }
  const snippet = probe.body.trim().slice(0, 160)
  if (probe.status >= 200 && probe.status < 300)
    return { status: 'ok', httpStatus: probe.status, detail: `GET /health ${probe.status}` }
  if (probe.status === 503) {
    const loading = /load/i.test(probe.body)
    return {
      status: loading ? 'loading' : 'unhealthy',
      httpStatus: 503,
      detail: `GET /health 503${snippet ? `: ${snippet}` : ''}`,
    }
  }
  if (probe.status === 404 && modelsAnswer)
    return {
      status: 'ok',
      httpStatus: 404,
      detail: 'no /health endpoint; GET /v1/models answers 200',
    }
  return {
    status: probe.status === 404 ? 'unknown' : 'unhealthy',
    httpStatus: probe.status,
    detail: `GET /health ${probe.status}${snippet ? `: ${snippet}` : ''}`,
  }
}
