import { z } from 'zod'
import type { EngineProvider } from '../engines/index.js'
import { getJson } from './_http-json.js'
import type { DoctorCheck, DoctorOptions } from './types.js'

// Loaded rules are not enough: an alert whose input series is absent can never fire. The
// recording rules (README: Prometheus rules and alerts) give every source the same names, so one
// query each.

const vectorSchema = z.object({
  status: z.literal('success'),
  data: z.object({ resultType: z.string(), result: z.array(z.unknown()) }),
})

interface Input {
  record: string
  what: string
  fix: string
}

const GPU: Input = {
  record: 'llm:gpu_memory_usage:ratio',
  what: 'GPU memory (LLMGPUMemoryHigh)',
  fix: 'Prometheus must scrape the inferwatch admin /metrics with gpu.enabled on the GPU host (hw_gpu_* from nvidia-smi), or a dcgm-exporter',
}

const KV: Input = {
  record: 'llm:kv_cache_usage:ratio',
  what: 'KV-cache usage (LLMKVCacheHigh)',
  fix: "Prometheus must scrape the engine's own /metrics (see the /metrics check) with the rules generated for this engine (`inferwatch rules --engine ...`)",
}

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
  // llama.cpp removed its KV usage metric (llama.cpp#13660); a generic server has none.
  const inputs = provider === 'llamacpp' || provider === 'openai' ? [GPU] : [GPU, KV]
  const results = await Promise.all(
    inputs.map((i) =>
      getJson(
        `${prom}/api/v1/query?query=${encodeURIComponent(`count(${i.record})`)}`,
        vectorSchema,
        {
          fetch: options.fetch,
          timeoutMs: options.timeoutMs,
        },
      ),
    ),
  )
  const missing: Input[] = []
  for (const [i, r] of results.entries()) {
    if (!r.ok) return { id, title, status: 'warn', finding: r.problem }
    const input = inputs[i]
    if (input && r.data.data.result.length === 0) missing.push(input)
  }
  if (missing.length > 0)
    return {
      id,
      title,
      status: 'warn',
      finding: `no data for ${missing.map((m) => `${m.what} from ${m.record}`).join('; ')}: that alert cannot fire`,
      fix: missing.map((m) => m.fix).join('; '),
    }
  return {
    id,
    title,
    status: 'pass',
    finding: `${inputs.map((i) => i.record).join(', ')} have data`,
  }
}
