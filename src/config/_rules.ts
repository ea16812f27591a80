import { z } from 'zod'
import { httpUrlKey } from './_values.js'

// Prometheus, Alertmanager and alert-threshold keys (README: Prometheus rules and alerts, with a
// runbook per alert). Durations are whole seconds.

const engineType = z.enum(['vllm', 'tgi', 'sglang', 'llamacpp'])

const engine = z.strictObject({
  type: engineType,
  /** host:port of the engine's /metrics (vLLM/SGLang/TGI: the API port; TGI also --prometheus-port 9000). */
  targets: z.array(z.string().min(1)).min(1),
  metricsPath: z.string().default('/metrics'),
  scheme: z.enum(['http', 'https']).default('http'),
  /** vLLM --gpu-memory-utilization the engine runs with (pre-allocated at start: 0.92 default). */
  gpuMemoryUtilization: z.number().gt(0).lte(1).optional(),
})

const forSeconds = (s: number) => z.int().nonnegative().default(s)

export const rulesShape = {
  /** Engine type behind `upstream` when `engines` is empty (the default single-engine setup). */
  engine: engineType.default('vllm'),
  /** Engines Prometheus scrapes directly; default: one engine of type `engine` at `upstream`. */
  engines: z.array(engine).default([]),
  /** --gpu-memory-utilization of the default engine. vLLM pre-allocates that fraction of the card
   * at start (its own default is 0.92 in current releases, 0.9 before). The default here is the
   * common `--gpu-memory-utilization 0.9`, which leaves the 92 % GPU-memory alert meaningful;
   * `rules` and `doctor` warn when the threshold is not above it: the engine's own reservation
   * would keep the alert firing. */
  gpuMemoryUtilization: z.number().gt(0).lte(1).default(0.9),
  nodeExporter: z.strictObject({ targets: z.array(z.string().min(1)).default([]) }).prefault({}),
  dcgmExporter: z.strictObject({ targets: z.array(z.string().min(1)).default([]) }).prefault({}),
  prometheus: z
    .strictObject({
      url: httpUrlKey('http://127.0.0.1:9090'),
      scrapeIntervalSeconds: z.int().positive().default(15),
      engineScrapeIntervalSeconds: z.int().positive().default(5),
      evaluationIntervalSeconds: z.int().positive().default(15),
      /** File holding adminToken for the `inferwatch` scrape job (credentials_file); without
       * it, prometheus.yml carries adminToken itself. */
      adminTokenFile: z.string().min(1).optional(),
    })
    .prefault({}),
  alertmanager: z
    .strictObject({
      url: httpUrlKey('http://127.0.0.1:9093'),
      /** Where Alertmanager posts; default: the relay on the admin address, /hooks/alertmanager. */
      webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
      /** Bearer token for the webhook (default: adminToken); prefer webhookTokenFile in production. */
      webhookToken: z.string().min(1).optional(),
      webhookTokenFile: z.string().min(1).optional(),
      groupWaitSeconds: z.int().nonnegative().default(30),
      groupIntervalSeconds: z.int().positive().default(300),
      repeatIntervalSeconds: z
        .int()
        .positive()
        .default(4 * 3600),
    })
    .prefault({}),
  alerts: z
    .strictObject({
      language: z.enum(['zh', 'en']).default('zh'),
      /** `test`: 1 s intervals and short `for` so live tests finish in seconds. */
      profile: z.enum(['default', 'test']).default('default'),
      /** Base of runbook_url; the alert's anchor (#llmgpumemoryhigh) is appended. */
      runbookUrl: z
        .string()
        .default('https://github.com/inferwatch/inferwatch/blob/main/README.md'),
      gpuMemoryHigh: z
        .strictObject({ ratio: z.number().gt(0).lte(1).default(0.92), forSeconds: forSeconds(30) })
        .prefault({}),
      kvCacheHigh: z
        .strictObject({ ratio: z.number().gt(0).lte(1).default(0.85), forSeconds: forSeconds(60) })
        .prefault({}),
      queueTimeHigh: z
        .strictObject({ seconds: z.number().positive().default(2), forSeconds: forSeconds(120) })
        .prefault({}),
      backlogHigh: z
        .strictObject({ requests: z.number().positive().default(8), forSeconds: forSeconds(60) })
        .prefault({}),
      longContextOverload: z
        .strictObject({
          ratio: z.number().gt(0).lt(1).default(0.3),
          forSeconds: forSeconds(120),
        })
        .prefault({}),
      highErrorRate: z
        .strictObject({ ratio: z.number().gt(0).lt(1).default(0.05), forSeconds: forSeconds(300) })
        .prefault({}),
      slowTimeToFirstToken: z
        .strictObject({
          p95Seconds: z.number().positive().default(2),
          forSeconds: forSeconds(300),
        })
        .prefault({}),
      engineDown: z.strictObject({ forSeconds: forSeconds(60) }).prefault({}),
      /** Availability SLO for the multiwindow multi-burn-rate alert (SRE Workbook ch. 5). */
      errorBudgetBurn: z
        .strictObject({ objective: z.number().gt(0).lt(1).default(0.999) })
        .prefault({}),
      preemptions: z.strictObject({ forSeconds: forSeconds(300) }).prefault({}),
      targetMissing: z.strictObject({ forSeconds: forSeconds(120) }).prefault({}),
      /** KV cache full within `withinSeconds` at its 30-minute trend (llm:kv_cache_exhaustion_seconds). */
      kvCacheExhaustionSoon: z
        .strictObject({
          withinSeconds: z.int().positive().default(600),
          forSeconds: forSeconds(300),
        })
        .prefault({}),
    })
    .prefault({}),
}
