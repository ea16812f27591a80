// Drives the meter through the seam with injected timestamps (shared by the meter's tests).
import assert from 'node:assert/strict'
import { Registry } from 'prom-client'
import {
  type AttributionOptions,
  createMeter,
  type ErrorType,
  type ExchangeObserver,
  type MeterHandle,
} from '../meter/index.js'
import type { TokenCounter } from '../tokens/index.js'

export const MODEL = 'qwen3-4b-instruct-2507'
export const DEFAULT_CLASSES = { mediumFromTokens: 32768, longFromTokens: 100000 }

export function newMeter(
  counter: TokenCounter,
  options: { classes?: typeof DEFAULT_CLASSES; attribution?: AttributionOptions } = {},
) {
  const registry = new Registry()
  const meter = createMeter({
    registry,
    contextClasses: options.classes ?? DEFAULT_CLASSES,
    tokenCounter: counter,
    ...(options.attribution ? { attribution: options.attribution } : {}),
  })
  meter.setServedModels([MODEL], 'vllm')
  return { registry, meter }
}

export interface Drive {
  url?: string
  body: string | Buffer
  status?: number
  contentType?: string
  headers?: Record<string, string>
  /** Request headers as node gives them (lower-case names). */
  requestHeaders?: Record<string, string>
  chunks: [atMs: number, data: string | Buffer][]
  endAtMs: number
  errorType?: ErrorType
}

/** Observes one POST to `url` arriving at t=0 (failing the test when the meter declines it). */
export function observePost(
  meter: MeterHandle,
  url: string,
  headers: Record<string, string> | string[] = {},
): ExchangeObserver {
  const obs = meter.observe({ method: 'POST', url, headers, startedAtMs: 0 })
  assert.ok(obs, `${url} is metered`)
  return obs
}

/** Opens one chat exchange (arrival at t=1000) and sends its request body: the hooks after that
 * are the test's. */
export function openChat(meter: MeterHandle, body: string): ExchangeObserver {
  const obs = meter.observe({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: {},
    startedAtMs: 1000,
  })
  assert.ok(obs)
  obs.requestChunk(Buffer.from(body))
  obs.requestEnd()
  return obs
}

/** One exchange through the observer hooks; arrival at t=1000. */
export async function drive(meter: MeterHandle, d: Drive): Promise<void> {
  const obs = meter.observe({
    method: 'POST',
    url: d.url ?? '/v1/chat/completions',
    headers: d.requestHeaders ?? {},
    startedAtMs: 1000,
  })
  assert.ok(obs)
  const body = Buffer.isBuffer(d.body) ? d.body : Buffer.from(d.body)
  obs.requestChunk(body)
  obs.requestEnd()
  obs.responseHead(
    d.status ?? 200,
    { 'content-type': d.contentType ?? 'text/event-stream', ...d.headers },
    1001,
  )
  for (const [at, data] of d.chunks)
    obs.responseChunk(Buffer.isBuffer(data) ? data : Buffer.from(data), at)
  obs.end({ errorType: d.errorType ?? '', atMs: d.endAtMs })
  await meter.settled()
}

export const sse = (v: unknown) => `data: ${JSON.stringify(v)}\n\n`
export const chat = (content: string) =>
  sse({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] })
export const ROLE = sse({
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta: { role: 'assistant', content: '' } }],
})
export const WORDS = [' Hello', ' world', ' this', ' is', ' a', ' test', ' of', ' the']
export const chatBody = (content: string, extra: object = {}) =>
  JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], stream: true, ...extra })
export const base = {
  gen_ai_operation_name: 'chat',
  gen_ai_request_model: MODEL,
  gen_ai_provider_name: 'vllm',
}
