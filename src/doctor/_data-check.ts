import { z } from 'zod'
import type { EngineProvider } from '../engines/index.js'
import { getJson, type JsonResult } from './_http-json.js'
import type { DoctorCheck, DoctorOptions } from './types.js'

// Loaded rules are not enough: an alert whose input series is absent can never fire. The
// recording rules (README: Prometheus rules and alerts) give every source the same names, and the
// generated prometheus.yml labels each engine target `engine="<type>"`, so one query per input,
// scoped to the engine behind --upstream where the input is the engine's.

const vectorSchema = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.string(),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()) })),
  }),
})

interface Input {
  record: string
  what: string
  fix: string
  /** The series come from the engine's own /metrics (labelled `engine`), not from inferwatch. */
  perEngine: boolean
}

const GPU: Input = {
  record: 'llm:gpu_memory_usage:ratio',
  what: 'GPU memory (LLMGPUMemoryHigh)',
  fix: 'Prometheus must scrape the inferwatch admin /metrics with gpu.enabled on the GPU host (hw_gpu_* from nvidia-smi), or a dcgm-exporter',
  perEngine: false,
}

const KV: Input = {
  record: 'llm:kv_cache_usage:ratio',
  what: 'KV-cache usage (LLMKVCacheHigh)',
  fix: "Prometheus must scrape the engine's own /metrics (see the /metrics check) with the rules generated for this engine (`inferwatch rules --engine ...`)",
  perEngine: true,
}

/** llama.cpp builds from mid-2025 on export no KV-cache metric
 * (https://github.com/ggml-org/llama.cpp/pull/13660); earlier ones export the ratio. */
const LLAMACPP_NO_KV =
  'this llama.cpp build does not export llamacpp:kv_cache_usage_ratio (newer builds dropped it), so LLMKVCacheHigh cannot fire for it: watch llm:requests_running:sum and inferwatch_requests_in_flight instead, or run a build that exports it'

type Vector = z.infer<typeof vectorSchema>

export async function checkAlertInputs(
  options: DoctorOptions,
  provider: EngineProvider | undefined,
  rulesLoaded: boolean,
): Promise<DoctorCheck> {
  const id = 'prometheus.data'
  const title = 'alert inputs have data'
  const prom = options.prometheus?.replace(/\/+$/, '')
  if (!prom) return { id, title, status: 'skip', finding: 'no --prometheus URL given' }
  if (!rulesLoaded)
    return { id, title, status: 'skip', finding: 'the inferwatch rules are not loaded' }
  const query = (q: string): Promise<JsonResult<Vector>> =>
    getJson(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`, vectorSchema, {
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
    })
  // A generic OpenAI-compatible server has no KV metric to record.
  const inputs = provider === 'openai' ? [GPU] : [GPU, KV]
  const results = await Promise.all(
    inputs.map((i) =>
      query(i.perEngine ? `count by (engine) (${i.record})` : `count(${i.record})`),
    ),
  )
  const missing: string[] = []
  const fixes: string[] = []
  for (const [n, r] of results.entries()) {
    if (!r.ok) return { id, title, status: 'warn', finding: r.problem }
    const input = inputs[n] as Input
    const series = r.data.data.result
    // A scrape config without `engine` labels cannot be told apart: any series counts.
    const engines = series.map((s) => s.metric.engine ?? '')
    const scoped = input.perEngine && provider !== undefined
    const has = scoped ? engines.some((e) => e === provider || e === '') : series.length > 0
    if (has) continue
    const others = engines.filter((e) => e !== '')
    missing.push(
      others.length > 0
        ? `${input.what} from ${input.record}{engine="${provider}"} (only ${others.join(', ')} have it)`
        : `${input.what} from ${input.record}`,
    )
    fixes.push(
      input === KV && provider === 'llamacpp' && (await scrapedWithoutKv(query))
        ? LLAMACPP_NO_KV
        : input.fix,
    )
  }
  if (missing.length > 0)
    return {
      id,
      title,
      status: 'warn',
      finding: `no data for ${missing.join('; ')}: that alert cannot fire`,
      fix: fixes.join('; '),
    }
  return {
    id,
    title,
    status: 'pass',
    finding: `${inputs.map((i) => i.record).join(', ')} have data${provider && provider !== 'openai' ? ` (engine ${provider})` : ''}`,
  }
}

/** llama.cpp's /metrics is scraped (its request gauges are there) but holds no KV ratio. */
async function scrapedWithoutKv(query: (q: string) => Promise<JsonResult<Vector>>) {
  const [scraped, kv] = await Promise.all([
    query('count(llamacpp:requests_processing)'),
    query('count(llamacpp:kv_cache_usage_ratio)'),
  ])
  return (
    scraped.ok && kv.ok && scraped.data.data.result.length > 0 && kv.data.data.result.length === 0
  )
}
