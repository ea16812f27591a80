import { z } from 'zod'
import { hostPortKey, httpUrlKey } from './_values.js'

// Proxy and admin keys (README: Configuration). Clients reach the proxy on every interface; the
// admin server (metrics, hook) stays on loopback unless asked.
export const proxyShape = {
  upstream: httpUrlKey('http://127.0.0.1:8000'),
  listen: hostPortKey('0.0.0.0:8080'),
  admin: hostPortKey('127.0.0.1:9464'),
  /** Bearer token required on admin endpoints other than /healthz when set. */
  adminToken: z.string().min(1).optional(),
  contextClasses: z
    .strictObject({
      mediumFromTokens: z.int().positive().default(32768),
      longFromTokens: z.int().positive().default(100000),
    })
    .prefault({})
    .refine((c) => c.mediumFromTokens < c.longFromTokens, {
      message: 'mediumFromTokens must be below longFromTokens',
    }),
  proxy: z
    .strictObject({
      /** No response headers from the engine within this -> 504. Generous: a non-streamed long
       * generation sends its headers only when it finishes. */
      upstreamTimeoutMs: z.int().positive().default(600_000),
      maxBodyBytes: z
        .int()
        .positive()
        .default(16 * 1024 * 1024),
      /** SIGTERM: in-flight streams get this long to finish. */
      drainTimeoutMs: z.int().nonnegative().default(30_000),
      /** How often the served model names are re-read from the engine. */
      modelsRefreshMs: z.int().positive().default(60_000),
      /** How often the engine's health endpoint is probed (inferwatch_upstream_up). */
      healthIntervalMs: z.int().positive().default(5_000),
    })
    .prefault({}),
}
