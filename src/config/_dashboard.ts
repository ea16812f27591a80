import { z } from 'zod'

// Dashboard keys (README: Dashboard). The admin server serves the page at `/`; its data comes from
// Prometheus at `prometheus.url`, or from the process's own metrics when no Prometheus answers.
export const dashboardShape = {
  dashboard: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** auto: Prometheus when it answers, else the process's own metrics kept for the last hour;
       * prometheus: always Prometheus (errors shown); local: never ask Prometheus. */
      source: z.enum(['auto', 'prometheus', 'local']).default('auto'),
      /** auto: the browser's language when it is Chinese or English, else relay.language. */
      language: z.enum(['auto', 'zh', 'en']).default('auto'),
      /** How often the in-memory fallback reads the process's own metrics. */
      localSampleIntervalMs: z.int().min(100).max(60_000).default(5000),
    })
    .prefault({}),
}
