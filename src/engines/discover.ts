import type { ZodType } from 'zod'
import { AppError } from '../shared/index.js'
import {
  isLlamaLoading,
  pickMaxLen,
  pickModels,
  pickVersion,
  readCapacity,
  readHealth,
  readMetrics,
} from './_readings.js'
import {
  llamaPropsSchema,
  modelsListSchema,
  parseJsonAs,
  sglangModelInfoSchema,
  sglangServerInfoSchema,
  tgiInfoSchema,
  versionSchema,
} from './_schemas.js'
import {
  createProbeLimiter,
  joinUrl,
  type ProbeOptions,
  type ProbeResult,
  probeUrl,
} from './probe.js'
import type { DiscoverOptions, EngineInfo, EngineProvider } from './types.js'

// Endpoints per engine (their API docs are listed in _schemas.ts), asked in stages so that an
// engine is sent only the few requests that can describe it: first liveness and the served
// models, whose `owned_by` names vLLM, SGLang and llama.cpp; then that engine's own info
// endpoints and /metrics (every info endpoint when the owner says nothing, e.g. TGI, which puts the
// model id there); last SGLang's newer /server_info where /get_server_info is gone.
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

const FIRST: readonly ProbePath[] = ['/health', '/v1/models']
const BY_OWNER: Readonly<Record<string, readonly ProbePath[]>> = {
  vllm: ['/version', '/metrics'],
  sglang: ['/get_model_info', '/get_server_info', '/metrics'],
  llamacpp: ['/props', '/metrics'],
}
const UNKNOWN_OWNER: readonly ProbePath[] = [
  '/version',
  '/info',
  '/props',
  '/get_model_info',
  '/get_server_info',
  '/metrics',
]

/**
 * Probes in flight at once by default: llama.cpp serves `max(slots + 2, cores - 1)` HTTP
 * threads (4 with 2 slots on 2 cores), and clients need the rest.
 */
const DEFAULT_MAX_IN_FLIGHT = 2
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
 * Sends 4 to 9 GETs, at most 2 at once (or as `options.limiter` allows), each on a connection
 * closed after its answer. Throws ENGINE_UNREACHABLE only when no probe got any HTTP answer.
 */
export async function discoverEngine(
  baseUrl: string,
  options: DiscoverOptions = {},
): Promise<EngineInfo> {
  const base = normalizeBaseUrl(baseUrl)
  const probeOptions: ProbeOptions = {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    limiter: options.limiter ?? createProbeLimiter(DEFAULT_MAX_IN_FLIGHT),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.apiKey ? { headers: { authorization: `Bearer ${options.apiKey}` } } : {}),
  }
  const probes = new Map<ProbePath, ProbeResult>()
  const ask = async (paths: readonly ProbePath[]) => {
    const results = await Promise.all(paths.map((p) => probeUrl(joinUrl(base, p), probeOptions)))
    for (const [i, p] of paths.entries()) probes.set(p, results[i] as ProbeResult)
  }
  const unreachable = () => {
    const first = probes.get('/health')
    return new AppError(
      'ENGINE_UNREACHABLE',
      `${base} does not answer: ${first && !first.ok ? first.message : 'no response'}`,
      {
        cause: first,
        hint: 'is the engine running? check `ps`, the port, and its log for "CUDA out of memory" or "Failed to load model"',
      },
    )
  }

  await ask(FIRST)
  // Refused or unresolvable: every other path of this host:port would be too.
  const hopeless = (r: ProbeResult) => !r.ok && (r.failure === 'refused' || r.failure === 'dns')
  if ([...probes.values()].every(hopeless)) throw unreachable()
  const models = json200(probes, '/v1/models', modelsListSchema)
  const owners = new Set(models?.data.map((m) => m.owned_by ?? '') ?? [])
  const known = Object.keys(BY_OWNER).find((o) => owners.has(o))
  await ask(known ? (BY_OWNER[known] as readonly ProbePath[]) : UNKNOWN_OWNER)
  const sglangHint =
    known === 'sglang' ||
    json200(probes, '/get_model_info', sglangModelInfoSchema) !== undefined ||
    /(^|\n)sglang:/.test(okBody(probes.get('/metrics')))
  if (sglangHint && !json200(probes, '/get_server_info', sglangServerInfoSchema))
    await ask(['/server_info'])
  if ([...probes.values()].every((r) => !r.ok)) throw unreachable()
  return interpret(base, probes)
}

function okBody(r: ProbeResult | undefined): string {
  return r?.ok && r.status === 200 ? r.body : ''
}

function json200<T>(
  probes: Map<ProbePath, ProbeResult>,
  path: ProbePath,
  schema: ZodType<T>,
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
  const weights =
    tgi?.model_id ??
    sglModel?.model_path ??
    sglServer?.model_path ??
    (props ? props.model_path : undefined) ??
    models?.data.find((m) => !m.parent && m.root)?.root
  if (weights) info.modelPath = weights
  const maxLen = pickMaxLen(chosen, models, tgi, props, sglServer, exposition)
  if (maxLen) info.maxModelLen = maxLen
  readCapacity(info, exposition, sglServer)
  return info
}
