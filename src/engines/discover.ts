import { AppError } from '../shared/index.js'
import {
  llamaErrorSchema,
  llamaPropsSchema,
  modelsListSchema,
  parseJsonAs,
  sglangModelInfoSchema,
  sglangServerInfoSchema,
  tgiInfoSchema,
  versionSchema,
} from './_schemas.js'
import { joinUrl, type ProbeResult, probeUrl } from './probe.js'
import {
  detectMetricPrefixes,
  findSamples,
  type PromExposition,
  parsePrometheusText,
} from './prom-text.js'
import type {
  DiscoverOptions,
  EngineHealth,
  EngineInfo,
  EngineMetricsInfo,
  EngineProvider,
} from './types.js'

// Endpoints per engine: shared/research/engines.md §0 (cheat sheet). All are probed at once.
const PATHS = [
  '/health',
  '/v1/models',
  '/version',
  '/info',
  '/props',
  '/get_model_info',
  '/get_server_info',
  '/server_info',
  '/metrics',
] as const
type ProbePath = (typeof PATHS)[number]

const DEFAULT_TIMEOUT_MS = 3000

/** Strips a trailing slash and a trailing `/v1` (users paste the OpenAI base URL). */
export function normalizeBaseUrl(baseUrl: string): string {
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch (cause) {
    throw new AppError('UPSTREAM_URL_INVALID', `"${baseUrl}" is not a URL`, {
      cause,
      hint: 'pass the engine base URL, e.g. http://127.0.0.1:8000',
    })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AppError('UPSTREAM_URL_INVALID', `"${baseUrl}" is not an http(s) URL`, {
      hint: 'pass the engine base URL, e.g. http://127.0.0.1:8000',
    })
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')}`
}

/**
 * Identifies the engine behind `baseUrl` (vLLM, TGI, SGLang, llama.cpp, else a generic
 * OpenAI-compatible server) and reads its models, context length, version and /metrics.
 * Throws ENGINE_UNREACHABLE only when no probe got any HTTP answer.
 */
export async function discoverEngine(
  baseUrl: string,
  options: DiscoverOptions = {},
): Promise<EngineInfo> {
  const base = normalizeBaseUrl(baseUrl)
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const results = await Promise.all(
    PATHS.map((p) =>
      probeUrl(joinUrl(base, p), {
        timeoutMs,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.apiKey ? { headers: { authorization: `Bearer ${options.apiKey}` } } : {}),
      }),
    ),
  )
  const probes = new Map<ProbePath, ProbeResult>(
    PATHS.map((p, i) => [p, results[i] as ProbeResult]),
  )
  if (results.every((r) => !r.ok)) {
    const first = probes.get('/health')
    throw new AppError(
      'ENGINE_UNREACHABLE',
      `${base} does not answer: ${first && !first.ok ? first.message : 'no response'}`,
      {
        cause: first,
        hint: 'is the engine running? check `ps`, the port, and its log for "CUDA out of memory" or "Failed to load model"',
      },
    )
  }
  return interpret(base, probes)
}

function json200<T>(
  probes: Map<ProbePath, ProbeResult>,
  path: ProbePath,
  schema: import('zod').ZodType<T>,
): T | undefined {
  const r = probes.get(path)
  return r?.ok && r.status === 200 ? parseJsonAs(schema, r.body) : undefined
}

function interpret(base: string, probes: Map<ProbePath, ProbeResult>): EngineInfo {
  const models = json200(probes, '/v1/models', modelsListSchema)
  const version = json200(probes, '/version', versionSchema)
  const tgi = json200(probes, '/info', tgiInfoSchema)
  const props = json200(probes, '/props', llamaPropsSchema)
  const sglModel = json200(probes, '/get_model_info', sglangModelInfoSchema)
  const sglServer =
    json200(probes, '/get_server_info', sglangServerInfoSchema) ??
    json200(probes, '/server_info', sglangServerInfoSchema)
  const { metrics, exposition } = readMetrics(base, probes.get('/metrics'))
  const llamaLoading = isLlamaLoading(probes.get('/health'))
  const owners = new Set(models?.data.map((m) => m.owned_by ?? '') ?? [])

  const evidence: string[] = []
  let provider: EngineProvider | undefined
  const pick = (p: EngineProvider, why: string) => {
    evidence.push(why)
    provider ??= p
  }
  if (tgi) pick('tgi', 'GET /info has model_id and max_total_tokens (TGI)')
  if (props) pick('llamacpp', 'GET /props has default_generation_settings (llama.cpp)')
  if (metrics.httpStatus === 501 && /--metrics/.test(metrics.detail ?? ''))
    pick('llamacpp', 'GET /metrics 501 asks for `--metrics` (llama.cpp)')
  if (llamaLoading) pick('llamacpp', 'GET /health 503 "Loading model" (llama.cpp)')
  if (sglModel) pick('sglang', 'GET /get_model_info has model_path (SGLang)')
  if (sglServer) pick('sglang', 'GET /get_server_info has the server args (SGLang)')
  if (owners.has('sglang')) pick('sglang', 'GET /v1/models owned_by "sglang"')
  if (owners.has('vllm')) pick('vllm', 'GET /v1/models owned_by "vllm"')
  if (owners.has('llamacpp')) pick('llamacpp', 'GET /v1/models owned_by "llamacpp"')
  const prefixOwner: Record<string, EngineProvider> = {
    'vllm:': 'vllm',
    'sglang:': 'sglang',
    'llamacpp:': 'llamacpp',
    tgi_: 'tgi',
  }
  for (const prefix of metrics.prefixes) {
    const p = prefixOwner[prefix]
    if (p) pick(p, `/metrics has ${prefix} metrics`)
  }
  if (!provider && version && models?.data.some((m) => m.max_model_len))
    pick('vllm', 'GET /version and max_model_len in /v1/models (vLLM)')
  const identified = provider !== undefined
  if (!provider && models)
    evidence.push('GET /v1/models answers (generic OpenAI-compatible server)')
  const chosen: EngineProvider = provider ?? 'openai'

  const info: EngineInfo = {
    provider: chosen,
    identified,
    evidence,
    baseUrl: base,
    models: pickModels(chosen, models, tgi, props, sglModel, sglServer),
    metrics,
    health: readHealth(probes.get('/health'), models !== undefined),
  }
  const v = pickVersion(
    chosen,
    version?.version,
    tgi?.version,
    sglServer?.version,
    props?.build_info,
  )
  if (v) info.version = v
  const maxLen = pickMaxLen(chosen, models, tgi, props, sglServer, exposition)
  if (maxLen) info.maxModelLen = maxLen
  readCapacity(info, exposition, sglServer)
  return info
}

function pickModels(
  provider: EngineProvider,
  models: ReturnType<typeof modelsListSchema.parse> | undefined,
  tgi: ReturnType<typeof tgiInfoSchema.parse> | undefined,
  props: ReturnType<typeof llamaPropsSchema.parse> | undefined,
  sglModel: ReturnType<typeof sglangModelInfoSchema.parse> | undefined,
  sglServer: ReturnType<typeof sglangServerInfoSchema.parse> | undefined,
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

function pickVersion(
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

function pickMaxLen(
  provider: EngineProvider,
  models: ReturnType<typeof modelsListSchema.parse> | undefined,
  tgi: ReturnType<typeof tgiInfoSchema.parse> | undefined,
  props: ReturnType<typeof llamaPropsSchema.parse> | undefined,
  sglServer: ReturnType<typeof sglangServerInfoSchema.parse> | undefined,
  exposition: PromExposition | undefined,
): number | undefined {
  // The base model (no parent) carries the engine's max_model_len; LoRA adapters repeat it.
  const listed = models?.data.find((m) => !m.parent && m.max_model_len)?.max_model_len
  switch (provider) {
    case 'tgi':
      return tgi?.max_total_tokens
    case 'llamacpp':
      return (
        props?.default_generation_settings.n_ctx ?? models?.data[0]?.meta?.n_ctx_train ?? undefined
      )
    case 'sglang': {
      const gauge = exposition ? findSamples(exposition, 'sglang:context_len')[0]?.value : undefined
      return sglServer?.context_length ?? listed ?? (gauge && gauge > 0 ? gauge : undefined)
    }
    default:
      return listed ?? undefined
  }
}

function readCapacity(
  info: EngineInfo,
  exposition: PromExposition | undefined,
  sglServer: ReturnType<typeof sglangServerInfoSchema.parse> | undefined,
): void {
  // vLLM: cache_config_info labels (engines.md §1.2); KV tokens = num_gpu_blocks × block_size.
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

function readMetrics(
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

function isLlamaLoading(probe: ProbeResult | undefined): boolean {
  if (!probe?.ok || probe.status !== 503) return false
  const body = parseJsonAs(llamaErrorSchema, probe.body)
  return body?.error.type === 'unavailable_error'
}

function readHealth(probe: ProbeResult | undefined, modelsAnswer: boolean): EngineHealth {
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
