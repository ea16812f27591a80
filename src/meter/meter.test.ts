// The meter driven directly through the seam, with injected timestamps (exact values, no sleeps).
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Worker } from 'node:worker_threads'
import fc from 'fast-check'
import { Registry } from 'prom-client'
import { createTokenCounter, type TokenCounter } from '../tokens/index.js'
import { gaugeValue, labelSets, readHistogram } from './_test-support.js'
import { createMeter, type MeterHandle } from './index.js'
import type { ErrorType } from './types.js'

const MODEL = 'qwen3-4b-instruct-2507'
const DEFAULT_CLASSES = { mediumFromTokens: 32768, longFromTokens: 100000 }
const shared = createTokenCounter()
after(() => shared.close())

function newMeter(options: { counter?: TokenCounter; classes?: typeof DEFAULT_CLASSES } = {}) {
  const registry = new Registry()
  const meter = createMeter({
    registry,
    contextClasses: options.classes ?? DEFAULT_CLASSES,
    tokenCounter: options.counter ?? shared,
  })
  meter.setServedModels([MODEL], 'vllm')
  return { registry, meter }
}

interface Drive {
  url?: string
  body: string | Buffer
  status?: number
  contentType?: string
  headers?: Record<string, string>
  chunks: [atMs: number, data: string | Buffer][]
  endAtMs: number
  errorType?: ErrorType
}

/** One exchange through the observer hooks; arrival at t=1000. */
async function drive(meter: MeterHandle, d: Drive): Promise<void> {
  const obs = meter.observe({
    method: 'POST',
    url: d.url ?? '/v1/chat/completions',
    headers: {},
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

const sse = (v: unknown) => `data: ${JSON.stringify(v)}\n\n`
const chat = (content: string) =>
  sse({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] })
const ROLE = sse({
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta: { role: 'assistant', content: '' } }],
})
const WORDS = [' Hello', ' world', ' this', ' is', ' a', ' test', ' of', ' the']
const chatBody = (content: string, extra: object = {}) =>
  JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], stream: true, ...extra })
const base = {
  gen_ai_operation_name: 'chat',
  gen_ai_request_model: MODEL,
  gen_ai_provider_name: 'vllm',
}

test('TTFT from arrival to the first content chunk (role-only chunk not counted), TPOT, duration, usage', async () => {
  const { registry, meter } = newMeter()
  const chunks: [number, string][] = [[1001, ROLE]]
  for (const [i, w] of WORDS.entries()) chunks.push([1080 + 15 * i, chat(w)])
  chunks.push(
    [1185, sse({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 8 } })],
    [1185, 'data: [DONE]\n\n'],
  )
  await drive(meter, {
    body: chatBody('Hi', { stream_options: { include_usage: true } }),
    chunks,
    endAtMs: 1185,
  })
  const labels = { ...base, context_class: 'short' }
  const ttft = await readHistogram(registry, 'gen_ai_server_time_to_first_token_seconds', labels)
  assert.deepEqual([ttft.count, Number(ttft.sum.toFixed(9))], [1, 0.08])
  const tpot = await readHistogram(registry, 'gen_ai_server_time_per_output_token_seconds', labels)
  assert.deepEqual([tpot.count, Number(tpot.sum.toFixed(9))], [1, 0.015])
  const dur = await readHistogram(registry, 'gen_ai_server_request_duration_seconds', {
    ...labels,
    error_type: '',
  })
  assert.deepEqual([dur.count, Number(dur.sum.toFixed(9))], [1, 0.185])
  const input = await readHistogram(registry, 'gen_ai_client_token_usage', {
    ...labels,
    gen_ai_token_type: 'input',
  })
  const output = await readHistogram(registry, 'gen_ai_client_token_usage', {
    ...labels,
    gen_ai_token_type: 'output',
  })
  assert.deepEqual([input.sum, output.sum], [12, 8])
  // No usage reported and only one output token: no TPOT; the text is counted with the tokenizer.
  registry.resetMetrics()
  await drive(meter, {
    body: chatBody('Hi'),
    chunks: [
      [1001, ROLE],
      [1050, chat(' Hello')],
      [1050, 'data: [DONE]\n\n'],
    ],
    endAtMs: 1051,
  })
  assert.equal(
    (await readHistogram(registry, 'gen_ai_server_time_per_output_token_seconds')).count,
    0,
  )
  assert.equal(
    (await readHistogram(registry, 'gen_ai_server_time_to_first_token_seconds')).sum,
    0.05,
  )
  const counted = await readHistogram(registry, 'gen_ai_client_token_usage', {
    gen_ai_token_type: 'output',
  })
  assert.equal(counted.sum, 1)
  // "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n": 9 tokens, counted since unreported.
  assert.equal(
    (await readHistogram(registry, 'gen_ai_client_token_usage', { gen_ai_token_type: 'input' }))
      .sum,
    9,
  )
})

test('the SSE stream split at every byte boundary meters the same', async () => {
  const { registry, meter } = newMeter()
  const wire = Buffer.from(
    `${ROLE}${WORDS.map(chat).join('')}${sse({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 8 } })}data: [DONE]\n\n`,
  )
  // The first content event ends at byte `firstEnd`; the chunk completing it gives TTFT.
  const firstEnd = Buffer.byteLength(ROLE) + Buffer.byteLength(chat(WORDS[0] as string))
  for (let i = 0; i <= wire.length; i++) {
    registry.resetMetrics()
    await drive(meter, {
      body: chatBody('Hi'),
      chunks: [
        [1070, wire.subarray(0, i)],
        [1090, wire.subarray(i)],
      ],
      endAtMs: 1200,
    })
    const ttft = await readHistogram(registry, 'gen_ai_server_time_to_first_token_seconds')
    assert.equal(ttft.sum, i >= firstEnd ? 0.07 : 0.09, `split at ${i}`)
    const out = await readHistogram(registry, 'gen_ai_client_token_usage', {
      gen_ai_token_type: 'output',
    })
    assert.equal(out.sum, 8, `split at ${i}`)
  }
})

test('1,000 random model names: the model label stays within served + other + unknown', async () => {
  const { registry, meter } = newMeter()
  const names = fc.sample(fc.string({ minLength: 0, maxLength: 40 }), 1000)
  for (const [i, name] of names.entries()) {
    const body =
      i % 10 === 0
        ? '{"messages": oops'
        : i % 10 === 1
          ? chatBody('x', { model: MODEL })
          : chatBody('x', { model: name })
    await drive(meter, { body, chunks: [[1010, chat('a')]], endAtMs: 1020, status: 200 })
  }
  const models = new Set(
    (await labelSets(registry, 'gen_ai_server_request_duration_seconds')).map(
      (l) => l.gen_ai_request_model,
    ),
  )
  assert.deepEqual([...models].sort(), ['other', 'qwen3-4b-instruct-2507', 'unknown'])
  const inFlightModels = new Set(
    (await labelSets(registry, 'inferwatch_requests_in_flight')).map((l) => l.gen_ai_request_model),
  )
  assert.ok([...inFlightModels].every((m) => ['other', MODEL, 'unknown'].includes(m as string)))
  // Malformed JSON: model unknown, class unknown (no count possible), still metered as chat.
  assert.equal(
    (
      await readHistogram(registry, 'gen_ai_server_request_duration_seconds', {
        gen_ai_request_model: 'unknown',
        context_class: 'unknown',
        gen_ai_operation_name: 'chat',
      })
    ).count,
    100,
  )
})

test('context classes: short without tokenizing (worker never started), medium and long counted', async () => {
  const fresh = createTokenCounter()
  after(() => fresh.close())
  const classes = { mediumFromTokens: 20, longFromTokens: 60 }
  const { registry, meter } = newMeter({ counter: fresh, classes })
  const usage = sse({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 1 } })
  await drive(meter, {
    url: '/v1/completions',
    body: JSON.stringify({ model: MODEL, prompt: 'Hi there', stream: true }),
    chunks: [[1010, usage]],
    endAtMs: 1020,
  })
  assert.equal(
    fresh.workerStarted(),
    false,
    'an 8-byte prompt under 20 tokens is short without the tokenizer',
  )
  assert.equal(
    (
      await readHistogram(registry, 'gen_ai_server_request_duration_seconds', {
        context_class: 'short',
      })
    ).count,
    1,
  )

  // 42 tokens (hf-reference en_paragraph): medium; 'A' + ' a' x 100 = 101 tokens: long. The engine
  // reports nothing here, so the class comes from the meter's own count.
  const medium =
    "The quick brown fox jumps over the lazy dog. It's 3:45pm on 2026-11-28, and GPU memory is at 92.5%!"
  const long = `A${' a'.repeat(100)}`
  const done = (p: string) => ({
    url: '/v1/completions',
    body: JSON.stringify({ model: MODEL, prompt: p }),
    contentType: 'application/json',
    chunks: [[1010, '{"choices":[{"text":" x"}]}']] as [number, string][],
    endAtMs: 1020,
  })
  await drive(meter, done(medium))
  await drive(meter, done(long))
  assert.equal(
    (
      await readHistogram(registry, 'gen_ai_server_request_duration_seconds', {
        context_class: 'medium',
      })
    ).count,
    1,
  )
  assert.equal(
    (
      await readHistogram(registry, 'gen_ai_server_request_duration_seconds', {
        context_class: 'long',
      })
    ).count,
    1,
  )
  const input = await readHistogram(registry, 'gen_ai_client_token_usage', {
    context_class: 'long',
    gen_ai_token_type: 'input',
  })
  assert.equal(input.sum, 101)

  // In flight: unknown while counting, then the class; a large body is parsed in the worker.
  const big = JSON.stringify({ model: MODEL, prompt: `A${' a'.repeat(40_000)}` })
  const obs = meter.observe({ method: 'POST', url: '/v1/completions', headers: {}, startedAtMs: 0 })
  assert.ok(obs)
  obs.requestChunk(Buffer.from(big))
  obs.requestEnd()
  assert.equal(
    await gaugeValue(registry, 'inferwatch_requests_in_flight', {
      gen_ai_request_model: 'unknown',
      context_class: 'unknown',
    }),
    1,
  )
  const until = async (f: () => Promise<boolean>) => {
    while (!(await f())) await new Promise((r) => setTimeout(r, 5))
  }
  await until(
    async () =>
      (await gaugeValue(registry, 'inferwatch_requests_in_flight', {
        gen_ai_request_model: MODEL,
        context_class: 'long',
      })) === 1,
  )
  obs.end({ errorType: 'client_abort', atMs: 10 })
  await meter.settled()
  assert.equal(await gaugeValue(registry, 'inferwatch_requests_in_flight', {}), 0)
  assert.equal(
    (
      await readHistogram(registry, 'gen_ai_server_request_duration_seconds', {
        error_type: 'client_abort',
        context_class: 'long',
      })
    ).count,
    1,
  )
})

test('a crashing token worker degrades to context_class unknown and never hangs the exchange', async () => {
  const crashing = createTokenCounter({
    spawn: () => new Worker('process.exit(1)', { eval: true }),
  })
  after(() => crashing.close())
  const { registry, meter } = newMeter({
    counter: crashing,
    classes: { mediumFromTokens: 5, longFromTokens: 50 },
  })
  await drive(meter, {
    url: '/v1/completions',
    body: JSON.stringify({ model: MODEL, prompt: 'long enough to need a count' }),
    contentType: 'application/json',
    chunks: [[1010, '{"choices":[{"text":" x"}]}']],
    endAtMs: 1020,
  })
  assert.equal(
    (
      await readHistogram(registry, 'gen_ai_server_request_duration_seconds', {
        context_class: 'unknown',
        error_type: '',
      })
    ).count,
    1,
  )
  // No usage and no tokenizer: output falls back to the number of content chunks.
  assert.equal(
    (await readHistogram(registry, 'gen_ai_client_token_usage', { gen_ai_token_type: 'output' }))
      .sum,
    1,
  )
})

test('error_type: the proxy’s, or the engine status; no TTFT or tokens for failures', async () => {
  const { registry, meter } = newMeter()
  await drive(meter, {
    body: chatBody('Hi'),
    status: 500,
    contentType: 'application/json',
    chunks: [[1010, '{"error":"x"}']],
    endAtMs: 1020,
  })
  await drive(meter, {
    body: chatBody('Hi'),
    chunks: [
      [1010, ROLE],
      [1050, chat('a')],
    ],
    endAtMs: 1060,
    errorType: 'upstream_reset',
  })
  assert.equal(
    (await readHistogram(registry, 'gen_ai_server_request_duration_seconds', { error_type: '500' }))
      .count,
    1,
  )
  assert.equal(
    (
      await readHistogram(registry, 'gen_ai_server_request_duration_seconds', {
        error_type: 'upstream_reset',
      })
    ).count,
    1,
  )
  assert.equal(
    (await readHistogram(registry, 'gen_ai_server_time_to_first_token_seconds')).count,
    0,
  )
  assert.equal((await readHistogram(registry, 'gen_ai_client_token_usage')).count, 0)
  assert.equal(
    meter.observe({ method: 'GET', url: '/v1/models', headers: {}, startedAtMs: 0 }),
    undefined,
  )
  assert.equal(
    meter.observe({ method: 'POST', url: '/tokenize', headers: {}, startedAtMs: 0 }),
    undefined,
  )
  assert.ok(
    meter.observe({ method: 'POST', url: '/v1/completions?x=1', headers: {}, startedAtMs: 0 }),
  )
})

test('a 1 MB prompt costs the main thread well under 2 ms (parsed and counted in the worker)', async (t) => {
  let analyzed = 0
  const stub: TokenCounter = {
    countText: async () => undefined,
    analyzeBody: async (_p, bytes) => {
      analyzed = bytes.byteLength
      return undefined
    },
    workerStarted: () => true,
    tokenizerLoaded: () => false,
    close: async () => {},
  }
  const { meter } = newMeter({ counter: stub })
  const body = Buffer.from(JSON.stringify({ model: MODEL, prompt: 'word '.repeat(210_000) }))
  const chunks = Array.from({ length: Math.ceil(body.length / 65536) }, (_, i) =>
    body.subarray(i * 65536, (i + 1) * 65536),
  )
  let best = Number.POSITIVE_INFINITY
  for (let run = 0; run < 5; run++) {
    const obs = meter.observe({
      method: 'POST',
      url: '/v1/completions',
      headers: {},
      startedAtMs: 0,
    })
    assert.ok(obs)
    const t0 = performance.now()
    for (const c of chunks) obs.requestChunk(c)
    obs.requestEnd()
    best = Math.min(best, performance.now() - t0)
    obs.end({ errorType: 'client_abort', atMs: 1 })
  }
  await meter.settled()
  assert.equal(analyzed, body.length)
  assert.ok(best < 2, `main-thread time for a ${body.length}-byte body: ${best} ms`)
  t.diagnostic(`1 MB body: ${best.toFixed(3)} ms of main-thread time`)
})
