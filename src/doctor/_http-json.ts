import type { z } from 'zod'
import { type FetchFn, probeUrl } from '../engines/index.js'

export type JsonResult<T> = { ok: true; data: T } | { ok: false; problem: string; refused: boolean }

/** GET + JSON + schema; a failure is one line that says which of the three went wrong. */
export async function getJson<T>(
  url: string,
  schema: z.ZodType<T>,
  options: { fetch?: FetchFn | undefined; timeoutMs?: number | undefined },
): Promise<JsonResult<T>> {
  const res = await probeUrl(url, {
    timeoutMs: options.timeoutMs ?? 3000,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  })
  if (!res.ok)
    return { ok: false, problem: `GET ${url}: ${res.message}`, refused: res.failure === 'refused' }
  if (res.status !== 200)
    return {
      ok: false,
      problem: `GET ${url} -> HTTP ${res.status}: ${res.body.trim().slice(0, 160)}`,
      refused: false,
    }
  let value: unknown
  try {
    value = JSON.parse(res.body)
  } catch {
    return { ok: false, problem: `GET ${url} did not return JSON`, refused: false }
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success)
    return {
      ok: false,
      problem: `GET ${url} returned an unexpected shape (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''})`,
      refused: false,
    }
  return { ok: true, data: parsed.data }
}

/** host:port of a URL with loopback names folded together, for "is this the same server" checks. */
export function hostPortOf(url: string): string | undefined {
  try {
    const u = new URL(url)
    const host = u.hostname === 'localhost' || u.hostname === '[::1]' ? '127.0.0.1' : u.hostname
    const port = u.port || (u.protocol === 'https:' ? '443' : '80')
    return `${host}:${port}`
  } catch {
    return undefined
  }
}
