// Hostile request bodies for every metered route, through the real proxy and the real meter (with
// the real token worker), to an engine that answers, streams garbage, closes before answering or
// resets mid-stream. Forwarding never depends on metering: the engine gets the request bytes
// unchanged, the client gets the engine's bytes unchanged (or the named 502), the in-flight gauge
// returns to 0, and every label stays within its bound.
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import { Registry } from 'prom-client'
import { parseHttpUrl } from '../config/index.js'
import { createMeter, type MeterHandle } from '../meter/index.js'
import { deepJson, fuzz, hostileJson, hostileString, watchEventLoop } from '../testing/fuzz.js'
import { closeServer } from '../testing/index.js'
import { send, startUpstream, type Upstream } from '../testing/proxy-upstream.js'
import { gaugeValue, labelSets } from '../testing/registry-values.js'
import { createTokenCounter, type TokenCounter } from '../tokens/index.js'
import { type ProxyHandle, startProxy } from './index.js'

const MODEL = 'qwen3-4b-instruct-2507'
const ROUTES = [
  '/v1/chat/completions',
  '/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/generate',
  '/generate_stream',
  '/completion',
  '/completions',
  '/infill',
]
const BOUNDS: Record<string, RegExp> = {
  gen_ai_request_model: new RegExp(`^(${MODEL}|other|unknown)$`),
  gen_ai_operation_name: /^(chat|text_completion|generate|embeddings)$/,
  gen_ai_provider_name: /^(vllm|tgi|sglang|llamacpp|openai)$/,
  context_class: /^(short|medium|long|unknown)$/,
  error_type: /^(|\d{3}|upstream_unreachable|upstream_timeout|upstream_reset|client_abort)$/,
  gen_ai_token_type: /^(input|output)$/,
}

type Mode = 'answer' | 'close-before' | 'reset-mid'
let mode: Mode = 'answer'
let answer = { contentType: 'application/json', chunks: [] as Buffer[] }

let upstream: Upstream
let proxy: ProxyHandle
let meter: MeterHandle
let registry: Registry
let counter: TokenCounter

before(async () => {
  upstream = await startUpstream((_req, res) => {
    if (mode === 'close-before') {
      res.socket?.destroy()
      return
    }
    res.writeHead(200, { 'content-type': answer.contentType })
    if (mode === 'reset-mid') {
      res.write(answer.chunks[0] ?? 'x')
      setTimeout(() => (res.socket as Socket | null)?.destroy(), 5)
      return
    }
    for (const c of answer.chunks) res.write(c)
    res.end()
  })
  registry = new Registry()
  counter = createTokenCounter()
  meter = createMeter({
    registry,
    contextClasses: { mediumFromTokens: 32768, longFromTokens: 100000 },
    tokenCounter: counter,
  })
  meter.setServedModels([MODEL], 'vllm')
  proxy = await startProxy({ upstream: parseHttpUrl(upstream.url, 'upstream'), meter })
  await counter.countText('warm-up') // the tokenizer loads in the worker once
})
after(async () => {
  await proxy.close()
  await closeServer(upstream.server)
  await meter.close()
  await counter.close()
})

/** A body shaped like each route's (messages, prompt, inputs, input) with hostile values. */
const shaped = fc
  .record({
    model: fc.oneof(fc.constant(MODEL), hostileString, hostileJson),
    messages: fc.oneof(
      fc.array(
        fc.record({ role: fc.oneof(fc.constant('user'), hostileString), content: hostileJson }),
        { maxLength: 3 },
      ),
      hostileJson,
    ),
    prompt: hostileJson,
    inputs: hostileJson,
    input: hostileJson,
    text: hostileJson,
    stream: fc.oneof(fc.boolean(), hostileJson),
    stream_options: fc.oneof(fc.constant({ include_usage: true }), hostileJson),
    tools: hostileJson,
  })
  .chain((full) =>
    fc
      .subarray(Object.keys(full))
      .map((keys) => JSON.stringify(Object.fromEntries(keys.map((k) => [k, full[k as 'model']])))),
  )

const requestBody: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: shaped.map((s) => Buffer.from(s)) },
  shaped.chain((s) => fc.nat({ max: s.length }).map((n) => Buffer.from(s.slice(0, n)))),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc
    .constantFrom(deepJson(50_000), deepJson(20_000, 'object'), '', '{', 'null', '[]')
    .map((s) => Buffer.from(s)),
)

/** What the engine answers: garbage shaped as each stream format, cut anywhere. */
const responseArb = fc.record({
  contentType: fc.constantFrom(
    'application/json',
    'text/event-stream',
    'application/x-ndjson',
    'text/plain',
  ),
  chunks: fc.array(
    fc.oneof(
      hostileString.map((s) => `data: ${s}\n\n`),
      hostileJson.map((v) => `data: ${JSON.stringify(v)}\n\n`),
      fc.constantFrom(
        'data: [DONE]\n\n',
        'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n',
        '{"text":["a"],"usage":{"prompt_tokens":-1}}\n',
        'data:{"token":{"text":"x"},"generated_text":null}\r\n\r\n',
        '{"content":"x","stop":false}',
        '\r',
      ),
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a).toString('latin1')),
    ),
    { maxLength: 8 },
  ),
})

test('hostile request bodies on every metered route: bytes pass unchanged, meter never breaks forwarding', async () => {
  const loop = watchEventLoop()
  const seen = new Map<string, number>()
  try {
    await fuzz(
      'proxy + meter',
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        requestBody,
        responseArb,
        fc.constantFrom<Mode>('answer', 'answer', 'answer', 'answer', 'close-before', 'reset-mid'),
        async (path, body, res, m) => {
          mode = m
          answer = { contentType: res.contentType, chunks: res.chunks.map((c) => Buffer.from(c)) }
          const seenBefore = upstream.seen.length
          const reply = await send(proxy.url, {
            method: 'POST',
            path,
            headers: { 'content-type': 'application/json' },
            body,
          }).catch((err: Error) => err)
          const got = upstream.seen[seenBefore]
          assert.ok(got, 'the engine got the request')
          assert.ok(got.body.equals(body), 'request bytes unchanged')
          const outcome = reply instanceof Error ? 'cut' : String(reply.status)
          seen.set(`${m}:${outcome}`, (seen.get(`${m}:${outcome}`) ?? 0) + 1)
          if (m === 'answer') {
            assert.equal(upstream.seen.length - seenBefore, 1, 'the engine got it once')
            assert.ok(!(reply instanceof Error), String(reply))
            assert.equal(reply.status, 200)
            assert.ok(reply.body.equals(Buffer.concat(answer.chunks)), 'response bytes unchanged')
          } else if (m === 'close-before') {
            assert.ok(!(reply instanceof Error), String(reply))
            assert.equal(reply.status, 502)
            assert.equal(reply.headers['x-inferwatch-error'], 'upstream_reset')
          } else {
            assert.ok(reply instanceof Error || reply.status === 200)
          }
          await meter.settled()
          assert.equal(proxy.inFlight(), 0)
        },
      ),
      80,
    )
  } finally {
    loop.stop()
  }
  assert.ok(loop.maxGapMs() < 2000, `event loop blocked ${loop.maxGapMs().toFixed(0)} ms`)
  await meter.settled()
  assert.equal(await gaugeValue(registry, 'inferwatch_requests_in_flight', {}), 0)
  for (const name of [
    'gen_ai_server_request_duration_seconds',
    'gen_ai_client_token_usage',
    'gen_ai_server_time_to_first_token_seconds',
  ]) {
    for (const set of await labelSets(registry, name)) {
      for (const [k, v] of Object.entries(set)) {
        assert.ok(BOUNDS[k]?.test(v), `${name}{${k}="${v}"} is out of bounds`)
      }
    }
  }
  const requests = await labelSets(registry, 'gen_ai_server_request_duration_seconds')
  assert.ok(requests.length > 0, 'requests were metered')
  assert.ok(seen.size >= 3, JSON.stringify([...seen]))
})

test('regression: the engine closes the connection before answering -> 502 upstream_reset, not unreachable', async () => {
  mode = 'close-before'
  const reply = await send(proxy.url, {
    method: 'POST',
    path: '/v1/chat/completions',
    body: Buffer.from(JSON.stringify({ model: MODEL, messages: [] })),
  })
  mode = 'answer'
  assert.equal(reply.status, 502)
  assert.equal(reply.headers['x-inferwatch-error'], 'upstream_reset')
  const error = (JSON.parse(reply.body.toString()) as { error: { code: string; message: string } })
    .error
  assert.equal(error.code, 'upstream_reset')
  assert.match(error.message, /closed the connection before responding/)
  await meter.settled()
  const resets = (await labelSets(registry, 'gen_ai_server_request_duration_seconds')).filter(
    (s) => s.error_type === 'upstream_reset',
  )
  assert.ok(resets.length > 0, 'metered as upstream_reset too')
})
