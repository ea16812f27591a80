// The meter driven directly through the seam, with injected timestamps (exact values, no sleeps).
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import fc from 'fast-check'
import {
  base,
  chat,
  chatBody,
  drive,
  MODEL,
  newMeter as newMeterWith,
  openChat,
  ROLE,
  sse,
  WORDS,
} from '../testing/meter-drive.js'
import { gaugeValue, labelSets, readHistogram } from '../testing/registry-values.js'
import { createTokenCounter } from '../tokens/index.js'

const shared = createTokenCounter()
after(() => shared.close())
const newMeter = () => newMeterWith(shared)

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

test('hooks only queue: the exchange is worked out after the I/O, and any read of the metrics runs the queue first', async () => {
  const { registry, meter } = newMeter()
  // Chunks are read later: the meter must keep what it was handed, not a copy made afterwards.
  const obs = openChat(meter, chatBody('Hi'))
  obs.responseHead(200, { 'content-type': 'text/event-stream' }, 1001)
  obs.responseChunk(Buffer.from(chat(' Hello')), 1040)
  obs.responseChunk(
    Buffer.from(sse({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 1 } })),
    1050,
  )
  obs.end({ errorType: '', atMs: 1050 })
  // No settled(), no turn of the event loop: the scrape itself runs the queued hooks.
  const ttft = await readHistogram(registry, 'gen_ai_server_time_to_first_token_seconds', {
    ...base,
    context_class: 'short',
  })
  assert.deepEqual([ttft.count, Number(ttft.sum.toFixed(9))], [1, 0.04])
  // The in-flight gauge of an exchange still open is right at once too.
  const open = meter.observe({
    method: 'POST',
    url: '/v1/completions',
    headers: {},
    startedAtMs: 0,
  })
  assert.ok(open)
  assert.equal(await gaugeValue(registry, 'inferwatch_requests_in_flight', {}), 1)
  open.end({ errorType: 'client_abort', atMs: 5 })
  await meter.settled()
})

test('a hook that throws: the rest of that exchange is not read, but it is still counted and leaves the in-flight gauge', async () => {
  const { registry, meter } = newMeter()
  const obs = openChat(meter, chatBody('Hi'))
  // Headers whose reading throws (a stand-in for any bug in reading a response).
  const hostile = Object.defineProperty({}, 'content-type', {
    enumerable: true,
    get() {
      throw new Error('unreadable header')
    },
  })
  obs.responseHead(200, hostile, 1001)
  obs.responseChunk(Buffer.from(chat(' Hello')), 1040)
  obs.end({ errorType: '', atMs: 1050 })
  await meter.settled()
  assert.equal(await gaugeValue(registry, 'inferwatch_requests_in_flight', {}), 0)
  const duration = await readHistogram(registry, 'gen_ai_server_request_duration_seconds', {
    ...base,
    error_type: '',
  })
  assert.equal(duration.count, 1)
  // The chunk after the throw was not read: no time to first token from it.
  assert.equal(
    (await readHistogram(registry, 'gen_ai_server_time_to_first_token_seconds')).count,
    0,
  )
  // The next exchange is metered as usual.
  await drive(meter, {
    body: chatBody('Hi'),
    chunks: [[1030, chat(' Hello')]],
    endAtMs: 1040,
  })
  assert.equal(
    (await readHistogram(registry, 'gen_ai_server_time_to_first_token_seconds')).count,
    1,
  )
})
