// Context classes, the token worker's failure modes and the main-thread cost of large bodies.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Worker } from 'node:worker_threads'
import { drive, MODEL, newMeter, observePost, sse } from '../testing/meter-drive.js'
import { gaugeValue, readHistogram } from '../testing/registry-values.js'
import { createTokenCounter, type TokenCounter } from '../tokens/index.js'

test('context classes: short without tokenizing (worker never started), medium and long counted', async () => {
  const fresh = createTokenCounter()
  after(() => fresh.close())
  const classes = { mediumFromTokens: 20, longFromTokens: 60 }
  const { registry, meter } = newMeter(fresh, { classes })
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
  const { registry, meter } = newMeter(crashing, {
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

test('a 1 MB prompt is handed whole to the worker to parse and count (its main-thread cost is reported)', async (t) => {
  let analyzed = 0
  let handed: Uint8Array | undefined
  const stub: TokenCounter = {
    countText: async () => undefined,
    analyzeBody: async (_p, bytes) => {
      analyzed = bytes.byteLength
      handed = bytes
      return undefined
    },
    workerStarted: () => true,
    tokenizerLoaded: () => false,
    close: async () => {},
  }
  const { meter } = newMeter(stub)
  const body = Buffer.from(JSON.stringify({ model: MODEL, prompt: 'word '.repeat(210_000) }))
  const chunks = Array.from({ length: Math.ceil(body.length / 65536) }, (_, i) =>
    body.subarray(i * 65536, (i + 1) * 65536),
  )
  let best = Number.POSITIVE_INFINITY
  for (let run = 0; run < 8; run++) {
    const obs = observePost(meter, '/v1/completions')
    const t0 = performance.now()
    for (const c of chunks) obs.requestChunk(c)
    obs.requestEnd()
    best = Math.min(best, performance.now() - t0)
    obs.end({ errorType: 'client_abort', atMs: 1 })
  }
  await meter.settled()
  assert.equal(analyzed, body.length)
  // A body with a declared length is copied as it arrives (the raw header list the proxy passes),
  // one without (chunked) at its end: either way the worker gets exactly the body, in a buffer of
  // its own (transferable, not a view into a pooled one).
  for (const headers of [[], ['Content-Length', String(body.length)]]) {
    handed = undefined
    const obs = observePost(meter, '/v1/completions', headers)
    for (const c of chunks) obs.requestChunk(c)
    obs.requestEnd()
    obs.end({ errorType: '', atMs: 1 })
    await meter.settled()
    assert.ok(handed, `handed over (${headers.length ? 'declared' : 'chunked'})`)
    const got = handed as Uint8Array
    assert.ok(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(body))
    assert.equal(got.byteOffset, 0)
    assert.equal(got.buffer.byteLength, body.length)
  }
  // Cut short of its declared length (the client went away): not analysed.
  handed = undefined
  const cut = observePost(meter, '/v1/completions', ['content-length', String(body.length + 10)])
  for (const c of chunks) cut.requestChunk(c)
  cut.requestEnd()
  cut.end({ errorType: 'client_abort', atMs: 1 })
  await meter.settled()
  assert.equal(handed, undefined)
  // Time is the benchmark's business (npm run bench:proxy, lane 4), not a test's.
  t.diagnostic(`1 MB body: ${best.toFixed(3)} ms of main-thread time`)
})

test('a large body goes to the worker after the response head, after the wait, or at the end', async () => {
  const handed: string[] = []
  const stub: TokenCounter = {
    countText: async () => undefined,
    analyzeBody: async (_p, bytes) => {
      handed.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
      return {
        dialect: 'openai-completions',
        model: MODEL,
        stream: true,
        includeUsage: false,
        promptIdCount: undefined,
        promptChars: 1,
        promptTokens: 200_000,
        short: false,
      }
    },
    workerStarted: () => true,
    tokenizerLoaded: () => false,
    close: async () => {},
  }
  const { registry, meter } = newMeter(stub)
  const body = (tag: string) =>
    Buffer.from(JSON.stringify({ model: MODEL, prompt: `${tag}${' a'.repeat(40_000)}` }))
  const open = () => observePost(meter, '/v1/completions')
  const tick = () => new Promise((r) => setImmediate(r))
  const longDuration = async () =>
    (
      await readHistogram(registry, 'gen_ai_server_request_duration_seconds', {
        context_class: 'long',
      })
    ).count

  // 1. Handed over when the engine's head arrives, not before.
  const a = open()
  a.requestChunk(body('A'))
  a.requestEnd()
  await tick()
  assert.equal(handed.length, 0, 'not while the engine has not answered')
  a.responseHead(200, { 'content-type': 'text/event-stream' }, 5)
  await tick()
  assert.equal(handed.length, 1)
  assert.ok(handed[0]?.includes('"A a a'))
  a.responseChunk(Buffer.from(sse({ choices: [{ text: ' x' }] })), 6)
  a.end({ errorType: '', atMs: 10 })
  await meter.settled()
  assert.equal(await longDuration(), 1)

  // 2. No head yet: handed over after the wait, and the in-flight gauge shows the class.
  const b = open()
  b.requestChunk(body('B'))
  b.requestEnd()
  const t0 = performance.now()
  while (handed.length < 2) await new Promise((r) => setTimeout(r, 5))
  const waited = performance.now() - t0
  assert.ok(waited >= 200, `handed over after ${waited.toFixed(0)} ms`)
  await tick()
  assert.equal(
    await gaugeValue(registry, 'inferwatch_requests_in_flight', {
      gen_ai_request_model: MODEL,
      context_class: 'long',
    }),
    1,
  )
  b.end({ errorType: 'client_abort', atMs: 10 })

  // 3. Ended before any answer: handed over at the end, and recorded with its class.
  const c = open()
  c.requestChunk(body('C'))
  c.requestEnd()
  c.end({ errorType: 'upstream_unreachable', atMs: 10 })
  await meter.settled()
  assert.equal(handed.length, 3)
  assert.ok(handed[2]?.includes('"C a a'))
  assert.equal(await longDuration(), 3)
  assert.equal(await gaugeValue(registry, 'inferwatch_requests_in_flight', {}), 0)
})
