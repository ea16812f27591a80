import { joinUrl, probeUrl } from '../engines/index.js'
import type { Readiness } from './_admin.js'

// Liveness of the engine (shared/research/engines.md §0 "liveness"): vLLM, TGI, SGLang and llama.cpp
// all answer GET /health (200 when serving; 503 while loading or dead). Generic OpenAI-compatible
// servers may have no /health: on 404/405 we fall back to GET /v1/models.

export interface UpstreamHealthOptions {
  baseUrl: string
  /** As the upstream may be shown (redacted). */
  label: string
  fetch?: typeof globalThis.fetch
  timeoutMs?: number
}

export interface UpstreamHealth {
  /** Probes now; the result is also remembered as `last`. */
  check(): Promise<Readiness>
  last(): Readiness | undefined
}

export function createUpstreamHealth(options: UpstreamHealthOptions): UpstreamHealth {
  let path = '/health'
  let last: Readiness | undefined
  const probe = (p: string) =>
    probeUrl(joinUrl(options.baseUrl, p), {
      timeoutMs: options.timeoutMs ?? 2000,
      maxBodyBytes: 64 * 1024,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    })
  const check = async (): Promise<Readiness> => {
    let r = await probe(path)
    if (r.ok && (r.status === 404 || r.status === 405) && path === '/health') {
      const alt = await probe('/v1/models')
      if (alt.ok && alt.status < 400) path = '/v1/models'
      r = alt
    }
    if (!r.ok) {
      last = { ok: false, reason: `upstream ${options.label} ${r.failure}: ${r.message}` }
    } else if (r.status >= 200 && r.status < 300) {
      last = { ok: true }
    } else {
      last = {
        ok: false,
        reason: `upstream ${options.label}${path} answered HTTP ${r.status}${r.body ? `: ${r.body.slice(0, 200)}` : ''}`,
      }
    }
    return last
  }
  return { check, last: () => last }
}
