import { Agent, request } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { TargetName } from './_report.js'

export interface Target {
  name: TargetName
  url: string
  /** Sent with every request (Portkey's provider and custom-host headers). */
  headers?: Record<string, string>
  /** The process serving `url` (its CPU and RSS are read from /proc). */
  pid?: number
}

const SMALL_CHAT = Buffer.from(
  JSON.stringify({
    model: 'bench',
    messages: [{ role: 'user', content: 'Say ok.' }],
    max_tokens: 1,
  }),
)
const STREAM_CHAT = Buffer.from(
  JSON.stringify({
    model: 'bench',
    messages: [{ role: 'user', content: 'Count.' }],
    max_tokens: 64,
    stream: true,
  }),
)

interface Timing {
  /** Request sent -> first response body chunk, ms. */
  firstMs: number
  /** Request sent -> response end, ms. */
  totalMs: number
  /** Gaps between consecutive body chunks, ms. */
  gapsMs: number[]
}

function exchange(
  url: URL,
  agent: Agent,
  path: string,
  body: Buffer,
  wantGaps: boolean,
  extra: Record<string, string> = {},
): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    let first = 0
    let last = 0
    const gapsMs: number[] = []
    const req = request(
      {
        hostname: url.hostname,
        port: url.port,
        method: 'POST',
        path,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length, ...extra },
      },
      (res) => {
        res.on('data', () => {
          const t = performance.now()
          if (first === 0) first = t
          else if (wantGaps) gapsMs.push(t - last)
          last = t
        })
        res.on('end', () => {
          if (res.statusCode !== 200)
            reject(new Error(`${url.origin}${path}: HTTP ${res.statusCode}`))
          else resolve({ firstMs: first - started, totalMs: performance.now() - started, gapsMs })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

const agentFor = (maxSockets: number) => new Agent({ keepAlive: true, maxSockets })

/**
 * The targets' order in round `round`: a fresh permutation each round (seeded, so runs repeat).
 * A fixed or merely rotated order measures one target always right after the same other, whose
 * work after answering (a slow gateway's hundreds of µs of CPU) lands on the next one's time.
 */
export function roundOrder(round: number, count: number): number[] {
  const order = Array.from({ length: count }, (_, k) => k)
  // mulberry32 on the round number.
  let seed = (round + 1) * 0x9e3779b9
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
  for (let a = count - 1; a > 0; a--) {
    const b = Math.floor(next() * (a + 1))
    ;[order[a], order[b]] = [order[b] as number, order[a] as number]
  }
  return order
}

/** Lane 1: sequential small non-streamed chat requests, each round in its own order. */
export async function measureLatency(
  targets: readonly Target[],
  n: number,
  warmup: number,
): Promise<Map<string, number[]>> {
  const agents = targets.map(() => agentFor(1))
  const urls = targets.map((t) => new URL(t.url))
  const out = new Map<string, number[]>(targets.map((t) => [t.name, []]))
  for (let i = 0; i < warmup + n; i++) {
    for (const j of roundOrder(i, targets.length)) {
      const t = await exchange(
        urls[j] as URL,
        agents[j] as Agent,
        '/v1/chat/completions',
        SMALL_CHAT,
        false,
        (targets[j] as Target).headers,
      )
      if (i >= warmup) out.get((targets[j] as Target).name)?.push(t.totalMs)
    }
  }
  for (const a of agents) a.destroy()
  return out
}

/** Lane 2: `concurrency` streams of 64 deltas 20 ms apart per round and target. */
export async function measureStreaming(
  targets: readonly Target[],
  rounds: number,
  concurrency: number,
): Promise<Map<string, { ttftMs: number[]; gapsMs: number[] }>> {
  const out = new Map(
    targets.map((t) => [t.name as string, { ttftMs: [] as number[], gapsMs: [] as number[] }]),
  )
  // Round 0 warms up (JIT, pooled connections) and is not counted. Each round in a fresh order:
  // a p99 of 100 streams is decided by the slowest round, so a noisy moment on the machine must
  // not fall on the same target's turn each time.
  for (let r = 0; r <= rounds; r++) {
    for (const j of roundOrder(r, targets.length)) {
      const target = targets[j] as Target
      const agent = agentFor(concurrency)
      const url = new URL(target.url)
      const runs = await Promise.all(
        Array.from({ length: concurrency }, () =>
          exchange(url, agent, '/v1/chat/completions', STREAM_CHAT, true, target.headers),
        ),
      )
      agent.destroy()
      const slot = out.get(target.name)
      if (r === 0) continue
      for (const run of runs) {
        slot?.ttftMs.push(run.firstMs)
        slot?.gapsMs.push(...run.gapsMs)
      }
    }
  }
  return out
}

/** A chat body of about `bytes` bytes (" hello" repeated), streamed, answered at once by the stub. */
export function largeChatBody(bytes: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      model: 'bench',
      messages: [{ role: 'user', content: ' hello'.repeat(Math.ceil(bytes / 6)) }],
      max_tokens: 1,
      stream: true,
    }),
  )
}

/** Lane 4: time to first token of a large prompt, sequential, each round in its own order. */
export async function measureLargePrompt(
  targets: readonly Target[],
  n: number,
  body: Buffer,
  /** Runs after the warm-up round: the first long prompt makes the meter load the tokenizer
   * (~1 s of a core, once per process), which must not overlap the measured rounds. */
  afterWarmup: () => Promise<unknown> = async () => {},
): Promise<Map<string, number[]>> {
  const agents = targets.map(() => agentFor(1))
  const urls = targets.map((t) => new URL(t.url))
  const out = new Map<string, number[]>(targets.map((t) => [t.name, []]))
  for (let i = 0; i < n + 1; i++) {
    if (i === 1) await afterWarmup()
    for (const j of roundOrder(i, targets.length)) {
      const t = await exchange(
        urls[j] as URL,
        agents[j] as Agent,
        '/v1/chat/completions?once',
        body,
        false,
        (targets[j] as Target).headers,
      )
      if (i > 0) out.get((targets[j] as Target).name)?.push(t.firstMs)
    }
  }
  for (const a of agents) a.destroy()
  return out
}

/** Lane 5: `streams` concurrent slow streams; `sample()` runs once every stream has its first
 * chunk (the proxy then holds them all), and its result is returned. */
export async function holdManyStreams<T>(
  target: Target,
  streams: number,
  sample: () => T,
): Promise<{ value: T; ok: number }> {
  const agent = agentFor(streams)
  const url = new URL(target.url)
  let started = 0
  let release: () => void = () => {}
  const allStarted = new Promise<void>((r) => {
    release = r
  })
  const runs = Array.from(
    { length: streams },
    () =>
      new Promise<boolean>((resolve) => {
        const req = request(
          {
            hostname: url.hostname,
            port: url.port,
            method: 'POST',
            path: '/v1/chat/completions?slow',
            agent,
            headers: {
              'content-type': 'application/json',
              'content-length': STREAM_CHAT.length,
              ...target.headers,
            },
          },
          (res) => {
            res.once('data', () => {
              started += 1
              if (started === streams) release()
            })
            res.resume()
            res.on('end', () => resolve(res.statusCode === 200))
            res.on('error', () => resolve(false))
          },
        )
        req.on('error', () => resolve(false))
        req.end(STREAM_CHAT)
      }),
  )
  const timeout = new Promise<void>((r) => setTimeout(r, 20_000).unref())
  await Promise.race([allStarted, timeout])
  const value = sample()
  const results = await Promise.all(runs)
  agent.destroy()
  return { value, ok: results.filter(Boolean).length }
}
