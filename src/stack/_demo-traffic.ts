import { randomUUID } from 'node:crypto'

// The demo's clients: chat requests through the proxy, streamed with usage like an OpenAI SDK.
// Every prompt starts with a unique id, so the simulator's prefix cache never serves one
// request's KV blocks to another (the squeeze and the burst must really fill the cache).

export interface ChatRequest {
  promptTokens: number
  maxTokens: number
  /** The OpenAI `user` field and the `x-app-name` header (per-client attribution). */
  client?: string
}

export interface TrafficStats {
  sent: number
  ok: number
  failed: number
  /** Ended by the demo itself (the squeeze's clients cancel). */
  cancelled: number
  statuses: Map<number, number>
}

export interface DemoClient {
  send(req: ChatRequest, signal?: AbortSignal): Promise<number>
  stats: TrafficStats
  inFlight(): number
}

/** About `tokens` Qwen3 tokens of text (" hello" is one token), after a unique prefix. */
function promptOf(tokens: number): string {
  return `[${randomUUID()}]${' hello'.repeat(Math.max(1, tokens - 20))}`
}

export function createDemoClient(
  proxyUrl: string,
  model: string,
  doFetch: typeof fetch = globalThis.fetch,
): DemoClient {
  const stats: TrafficStats = { sent: 0, ok: 0, failed: 0, cancelled: 0, statuses: new Map() }
  let inFlight = 0
  return {
    stats,
    inFlight: () => inFlight,
    async send(req, signal) {
      stats.sent += 1
      inFlight += 1
      let status = 0
      try {
        const res = await doFetch(`${proxyUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(req.client ? { 'x-app-name': req.client } : {}),
          },
          body: JSON.stringify({
            model,
            messages: [{ role: 'user', content: promptOf(req.promptTokens) }],
            max_tokens: req.maxTokens,
            stream: true,
            stream_options: { include_usage: true },
            ...(req.client ? { user: req.client } : {}),
          }),
          ...(signal ? { signal } : {}),
        })
        status = res.status
        await res.arrayBuffer()
      } catch {
        status = 0
      } finally {
        inFlight -= 1
      }
      stats.statuses.set(status, (stats.statuses.get(status) ?? 0) + 1)
      if (status === 200) stats.ok += 1
      else if (signal?.aborted) stats.cancelled += 1
      else stats.failed += 1
      return status
    },
  }
}

/** Sends `make()` requests at `perSecond` (wall clock) until `signal` aborts. */
export function sendAtRate(
  client: DemoClient,
  perSecond: () => number,
  make: () => ChatRequest,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined
    const tick = () => {
      if (signal.aborted) return resolve()
      const rate = perSecond()
      if (rate > 0) void client.send(make(), signal)
      timer = setTimeout(tick, rate > 0 ? 1000 / rate : 250)
    }
    signal.addEventListener(
      'abort',
      () => {
        if (timer) clearTimeout(timer)
        resolve()
      },
      { once: true },
    )
    tick()
  })
}

/** Keeps `n` requests in flight until `signal` aborts (aborting them too). */
export async function keepInFlight(
  client: DemoClient,
  n: number,
  make: () => ChatRequest,
  signal: AbortSignal,
): Promise<void> {
  const lane = async () => {
    while (!signal.aborted) {
      const status = await client.send(make(), signal)
      if (status !== 200 && !signal.aborted) await new Promise((r) => setTimeout(r, 200))
    }
  }
  await Promise.all(Array.from({ length: n }, lane))
}
