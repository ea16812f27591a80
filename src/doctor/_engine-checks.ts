import { z } from 'zod'
import {
  createProbeLimiter,
  discoverEngine,
  type EngineInfo,
  type EngineProvider,
  joinUrl,
  normalizeBaseUrl,
  type ProbeLimiter,
  type ProbeResult,
  probeUrl,
} from '../engines/index.js'
import type { DoctorCheck, DoctorOptions } from './types.js'

// The engine half of doctor. Facts and fixes (how each engine turns /metrics on, liveness while
// loading): https://docs.vllm.ai/en/latest/usage/metrics.html,
// https://huggingface.co/docs/text-generation-inference/reference/launcher,
// https://docs.sglang.io/references/production_metrics.html,
// https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md.

const START_FAILURE_HINT =
  'is the engine running? check `ps aux | grep -E "vllm|text-generation|sglang|llama-server"`, that it listens on this port (`ss -ltnp`), and its log for "CUDA out of memory" or "Failed to load model" (a crashed start leaves nothing listening)'

const NAMES: Record<EngineProvider, string> = {
  vllm: 'vLLM',
  tgi: 'TGI',
  sglang: 'SGLang',
  llamacpp: 'llama.cpp',
  openai: 'OpenAI-compatible server',
}

export interface EngineChecks {
  checks: DoctorCheck[]
  engine?: EngineInfo
}

// Doctor's requests to the engine run one after another or at most 2 at once, each closing its
// connection (src/engines/probe.ts says why): its own probing must not make a small engine
// (llama.cpp, a few HTTP threads) look hung.
const MAX_PROBES_IN_FLIGHT = 2

export async function checkEngine(options: DoctorOptions): Promise<EngineChecks> {
  const base = normalizeBaseUrl(options.upstream)
  const limiter = createProbeLimiter(MAX_PROBES_IN_FLIGHT)
  const fetchOpt = { limiter, ...(options.fetch ? { fetch: options.fetch } : {}) }
  const timeoutMs = options.timeoutMs ?? 3000
  let health = await probeUrl(joinUrl(base, '/health'), { timeoutMs, ...fetchOpt })
  // An engine with every HTTP thread held by other clients' idle keep-alive connections answers
  // once one closes (llama.cpp: within 5 s): one more try before calling it hung.
  if (!health.ok && health.failure === 'timeout') {
    health = await probeUrl(joinUrl(base, '/health'), { timeoutMs, ...fetchOpt })
    if (!health.ok && health.failure === 'timeout')
      health = { ...health, message: `${health.message}, twice` }
  }
  if (!health.ok) {
    const checks = [answerFailure(base, health)]
    const elsewhere = health.failure === 'refused' ? await findEngineElsewhere(base, options) : []
    const first = checks[0]
    if (first && elsewhere.length > 0)
      first.fix = `nothing listens there, but an engine answers at ${elsewhere.join(', ')}: pass that as --upstream, or ${first.fix}`
    for (const [id, title] of LATER) checks.push(skip(id, title, 'the engine does not answer'))
    return { checks }
  }
  const engine = await discoverEngine(base, {
    timeoutMs,
    ...fetchOpt,
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
  })
  const checks = [answerCheck(base, engine), identifyCheck(engine), metricsCheck(engine)]
  checks.push(await completionCheck(engine, options, limiter))
  return { checks, engine }
}

const LATER: [string, string][] = [
  ['engine.identified', 'engine identified'],
  ['engine.metrics', '/metrics served'],
  ['engine.completion', 'tiny completion works'],
]

function skip(id: string, title: string, finding: string): DoctorCheck {
  return { id, title, status: 'skip', finding }
}

// Default API ports (the engines' docs above): vLLM 8000, TGI 3000/80, SGLang 30000, llama.cpp
// 8080 (9931 newer).
const COMMON_PORTS = ['8000', '8080', '9931', '30000', '3000']

/** On connection refused: does an engine answer /health on the usual ports of the same host? */
async function findEngineElsewhere(base: string, options: DoctorOptions): Promise<string[]> {
  const url = new URL(base)
  const candidates = COMMON_PORTS.filter((p) => p !== url.port).map((port) => {
    const u = new URL(base)
    u.port = port
    return u.origin
  })
  const results = await Promise.all(
    candidates.map((origin) =>
      probeUrl(joinUrl(origin, '/health'), {
        timeoutMs: 500,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    ),
  )
  return candidates.filter((_, i) => {
    const r = results[i]
    // 200 up or 503 loading; a 502 is a proxy (e.g. inferwatch on 8080) with no engine behind it.
    return r?.ok && (r.status === 200 || r.status === 503)
  })
}

function answerFailure(base: string, probe: Extract<ProbeResult, { ok: false }>): DoctorCheck {
  const check: DoctorCheck = {
    id: 'engine.answers',
    title: 'engine answers and is healthy',
    status: 'fail',
    finding: `${base}: ${probe.message}`,
    fix: START_FAILURE_HINT,
  }
  if (probe.failure === 'timeout')
    check.fix = `something accepts connections at ${base} but does not answer: the engine is hung or overloaded; check its log and GPU (nvidia-smi), then restart it`
  if (probe.failure === 'dns') check.fix = `check the host name in --upstream (${base})`
  return check
}

function answerCheck(base: string, engine: EngineInfo): DoctorCheck {
  const title = 'engine answers and is healthy'
  const { status, detail } = engine.health
  if (status === 'ok')
    return { id: 'engine.answers', title, status: 'pass', finding: `${base}: ${detail}` }
  if (status === 'loading')
    return {
      id: 'engine.answers',
      title,
      status: 'fail',
      finding: `${base} is still loading the model (${detail})`,
      fix: 'wait until its log says the server is ready and rerun `inferwatch doctor`; if it never finishes, look in the log for "CUDA out of memory" or "Failed to load model"',
    }
  return {
    id: 'engine.answers',
    title,
    status: status === 'unknown' ? 'warn' : 'fail',
    finding: `${base}: ${detail}`,
    fix:
      status === 'unknown'
        ? 'the server has no /health endpoint and /v1/models did not answer: check that --upstream is the engine base URL'
        : 'the process is up but reports itself unhealthy (a dead engine core answers 503): read its log (CUDA out of memory, NCCL errors) and restart it',
  }
}

function identifyCheck(engine: EngineInfo): DoctorCheck {
  const title = 'engine identified'
  const parts = [
    `${NAMES[engine.provider]}${engine.version ? ` ${engine.version}` : ''}`,
    engine.models.length ? `model ${engine.models.join(', ')}` : 'no model listed',
    engine.maxModelLen ? `max context ${engine.maxModelLen} tokens` : 'max context unknown',
  ]
  if (engine.identified)
    return { id: 'engine.identified', title, status: 'pass', finding: parts.join('; ') }
  return {
    id: 'engine.identified',
    title,
    status: 'warn',
    finding: `not vLLM, TGI, SGLang or llama.cpp by its endpoints (/version, /info, /props, /get_model_info); treated as a generic ${parts.join('; ')}`,
    fix: 'metering still works; engine-side rules need `inferwatch rules --engine vllm|tgi|sglang|llamacpp` to match what you run',
  }
}

const METRICS_FIX: Record<EngineProvider, string> = {
  vllm: '`vllm serve` always serves /metrics on its API port; the demo `python -m vllm.entrypoints.api_server` (/generate) has none: run `vllm serve`. There is no --enable-metrics or --metrics-export-port flag for `vllm serve`',
  tgi: 'TGI always serves /metrics on its main port (and on --prometheus-port, default 9000, since v3.3); there is no --metrics-exporter flag: check that --upstream is the router port',
  sglang:
    'restart SGLang with --enable-metrics (it serves /metrics on its API port, default 30000)',
  llamacpp:
    'restart llama-server with --metrics (or LLAMA_ARG_ENDPOINT_METRICS=1); it serves /metrics on its API port',
  openai:
    'this server serves no Prometheus /metrics; the inferwatch proxy still meters every request, but engine-side signals (KV cache, queue) are missing',
}

const PREFIX: Record<EngineProvider, string | undefined> = {
  vllm: 'vllm:',
  tgi: 'tgi_',
  sglang: 'sglang:',
  llamacpp: 'llamacpp:',
  openai: undefined,
}

function metricsCheck(engine: EngineInfo): DoctorCheck {
  const title = '/metrics served'
  const m = engine.metrics
  const expected = PREFIX[engine.provider]
  if (!m.served)
    return {
      id: 'engine.metrics',
      title,
      status: engine.provider === 'openai' ? 'warn' : 'fail',
      finding: `${m.url}: ${m.detail ?? 'not served'}`,
      fix: METRICS_FIX[engine.provider],
    }
  if (expected && !m.prefixes.includes(expected)) {
    const fix =
      engine.provider === 'vllm'
        ? 'vLLM was started with --disable-log-stats, which removes every vllm:* metric (only HTTP metrics remain): restart without it'
        : `expected ${expected}* metrics: check that --upstream points at the engine itself, not another proxy`
    return {
      id: 'engine.metrics',
      title,
      status: 'fail',
      finding: `${m.url} answers but has no ${expected}* metrics (found: ${m.prefixes.join(', ') || 'only generic ones'})`,
      fix,
    }
  }
  return {
    id: 'engine.metrics',
    title,
    status: 'pass',
    finding: `${m.url} serves ${m.prefixes.join(', ') || 'Prometheus'} metrics`,
  }
}

const completionSchema = z.object({
  choices: z
    .array(
      z.object({
        text: z.string().nullish(),
        message: z.object({ content: z.string().nullish() }).nullish(),
      }),
    )
    .min(1),
  usage: z.object({ completion_tokens: z.number().int().nonnegative() }).nullish(),
})

async function completionCheck(
  engine: EngineInfo,
  options: DoctorOptions,
  limiter: ProbeLimiter,
): Promise<DoctorCheck> {
  const id = 'engine.completion'
  const title = 'tiny completion works'
  if (engine.health.status === 'loading') return skip(id, title, 'the engine is still loading')
  const model = engine.models[0]
  if (!model) {
    if (engine.identified)
      return skip(id, title, 'the engine lists no model, so there is no name to ask for')
    return {
      id,
      title,
      status: 'fail',
      finding: 'GET /v1/models lists no model: this is not an OpenAI-compatible server',
      fix: "inferwatch meters the OpenAI routes; vLLM's demo `python -m vllm.entrypoints.api_server` has only /generate and no /metrics: run `vllm serve MODEL` instead",
    }
  }
  const now = options.nowMs ?? (() => performance.now())
  const routes = [
    ['/v1/completions', { model, prompt: 'Hello', max_tokens: 1, temperature: 0 }],
    [
      '/v1/chat/completions',
      { model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 1, temperature: 0 },
    ],
  ] as const
  let last = ''
  for (const [path, body] of routes) {
    const started = now()
    const res = await probeUrl(joinUrl(engine.baseUrl, path), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      },
      body: JSON.stringify(body),
      timeoutMs: options.completionTimeoutMs ?? 60_000,
      limiter,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    })
    const ms = Math.round(now() - started)
    if (!res.ok) {
      return {
        id,
        title,
        status: 'fail',
        finding: `POST ${path}: ${res.message}`,
        fix: 'the engine answered its info endpoints but not a generation: read its log (CUDA out of memory, a crashed worker) and retry',
      }
    }
    if (res.status === 404) {
      last = `POST ${path} 404`
      continue
    }
    let parsed: z.infer<typeof completionSchema> | undefined
    try {
      const r = completionSchema.safeParse(JSON.parse(res.body))
      parsed = r.success ? r.data : undefined
    } catch {}
    if (res.status === 200 && parsed) {
      const tokens = parsed.usage ? `, ${parsed.usage.completion_tokens} output token(s)` : ''
      return {
        id,
        title,
        status: 'pass',
        finding: `POST ${path} (model ${model}) answered in ${ms} ms${tokens}`,
      }
    }
    return {
      id,
      title,
      status: 'fail',
      finding: `POST ${path} (model ${model}) -> HTTP ${res.status} in ${ms} ms: ${res.body.trim().slice(0, 200)}`,
      fix: completionFix(res.status),
    }
  }
  return {
    id,
    title,
    status: 'fail',
    finding: `${last}: no OpenAI-compatible completion route`,
    fix: 'inferwatch meters the OpenAI routes (/v1/completions, /v1/chat/completions): run the engine OpenAI server (e.g. `vllm serve`, not the demo api_server)',
  }
}

function completionFix(status: number): string {
  if (status === 200)
    return 'the answer is not an OpenAI completion: check that --upstream is the engine and not another service'
  if (status === 401 || status === 403)
    return 'the engine requires an API key (started with --api-key): export INFERWATCH_API_KEY=... before `inferwatch doctor`'
  return 'read the error above and the engine log; a 400/422 on a 1-token prompt usually means a wrong model name or a broken chat template'
}
