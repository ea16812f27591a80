// The route table and the routes added to it: llama.cpp's /completions, /chat/completions and
// /infill, and /v1/embeddings (input tokens only), driven through the seam with the real Qwen3
// tokenizer and injected timestamps.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Registry } from 'prom-client'
import { drive, sse } from '../testing/meter-drive.js'
import { labelSets, readHistogram } from '../testing/registry-values.js'
import { createTokenCounter } from '../tokens/index.js'
import { createMeter } from './index.js'

const counter = createTokenCounter()
after(() => counter.close())
const MODEL = 'tiny-qwen2'

function newMeter(provider: 'llamacpp' | 'vllm' = 'llamacpp') {
  const registry = new Registry()
  const meter = createMeter({
    registry,
    contextClasses: { mediumFromTokens: 32768, longFromTokens: 100000 },
    tokenCounter: counter,
  })
  meter.setServedModels([MODEL], provider)
  return { registry, meter }
}

const tokens = (registry: Registry, type: 'input' | 'output', labels = {}) =>
  readHistogram(registry, 'gen_ai_client_token_usage', { gen_ai_token_type: type, ...labels })

test('metered: every generation route of each engine, with or without a query; nothing else', () => {
  const { meter } = newMeter()
  const metered = (url: string, method = 'POST') =>
    meter.observe({ method, url, headers: {}, startedAtMs: 0 }) !== undefined
  for (const path of [
    '/v1/chat/completions',
    '/chat/completions',
    '/v1/completions',
    '/v1/embeddings',
    '/generate',
    '/generate_stream',
    '/completion',
    '/completions',
    '/infill',
  ]) {
    assert.ok(metered(path), path)
    assert.ok(metered(`${path}?x=1`), `${path}?x=1`)
  }
  for (const path of ['/v1/models', '/metrics', '/health', '/tokenize', '/v1/completions/x', '/'])
    assert.ok(!metered(path), path)
  assert.ok(!metered('/completions', 'GET'))
})

test('llama.cpp /completions and /infill are its native routes; /chat/completions is chat', async () => {
  const { registry, meter } = newMeter()
  const done = (extra: object) =>
    JSON.stringify({
      content: ' a b',
      stop: true,
      tokens_predicted: 4,
      tokens_evaluated: 18,
      ...extra,
    })
  await drive(meter, {
    url: '/completions',
    body: JSON.stringify({ prompt: 'Hello', n_predict: 4 }),
    contentType: 'application/json; charset=utf-8',
    chunks: [[1050, done({})]],
    endAtMs: 1050,
  })
  await drive(meter, {
    url: '/infill',
    body: JSON.stringify({ input_prefix: 'def f(', input_suffix: '):\n  return 1', stream: true }),
    chunks: [
      [1030, sse({ content: ' x', stop: false, tokens_predicted: 1, tokens_evaluated: 18 })],
      [1045, sse({ content: '', stop: true, tokens_predicted: 3, tokens_evaluated: 18 })],
    ],
    endAtMs: 1045,
  })
  await drive(meter, {
    url: '/chat/completions',
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
    contentType: 'application/json; charset=utf-8',
    chunks: [
      [
        1040,
        JSON.stringify({
          choices: [{ index: 0, message: { role: 'assistant', content: 'x y' } }],
          usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
        }),
      ],
    ],
    endAtMs: 1040,
  })
  const generate = { gen_ai_operation_name: 'generate', gen_ai_provider_name: 'llamacpp' }
  assert.deepEqual(
    (await labelSets(registry, 'gen_ai_server_request_duration_seconds'))
      .map((l) => `${l.gen_ai_operation_name} ${l.gen_ai_provider_name} ${l.gen_ai_request_model}`)
      .sort(),
    ['chat llamacpp unknown', 'generate llamacpp unknown'],
  )
  assert.deepEqual(
    [
      (await tokens(registry, 'input', generate)).sum,
      (await tokens(registry, 'output', generate)).sum,
    ],
    [36, 7],
  )
  const chat = { gen_ai_operation_name: 'chat' }
  assert.deepEqual(
    [(await tokens(registry, 'input', chat)).sum, (await tokens(registry, 'output', chat)).sum],
    [9, 4],
  )
  // Only the streamed /infill has a TTFT: its first content at 30 ms.
  const ttft = await readHistogram(registry, 'gen_ai_server_time_to_first_token_seconds')
  assert.deepEqual([ttft.count, Number(ttft.sum.toFixed(6))], [1, 0.03])
})

function embeddingsBody(vectors: number, dims: number, usage?: object): string {
  const data = Array.from({ length: vectors }, (_, i) => ({
    object: 'embedding',
    index: i,
    embedding: Array.from({ length: dims }, (_, j) => Math.sin(i * dims + j)),
  }))
  return JSON.stringify({ object: 'list', data, model: MODEL, ...(usage ? { usage } : {}) })
}

/** Cuts `text` into chunks of `size` bytes. */
function chunked(text: string, size: number, atMs: number): [number, Buffer][] {
  const b = Buffer.from(text)
  const out: [number, Buffer][] = []
  for (let i = 0; i < b.length; i += size) out.push([atMs, b.subarray(i, i + size)])
  return out
}

test('/v1/embeddings: input tokens from usage at the end of a large body (cut anywhere), no output, no TTFT', async () => {
  const usage = {
    prompt_tokens: 4321,
    total_tokens: 4321,
    prompt_tokens_details: { cached_tokens: 0 },
  }
  const body = embeddingsBody(64, 1024, usage)
  assert.ok(body.length > 1_000_000)
  for (const size of [7, 333, 4096, 65536]) {
    const { registry, meter } = newMeter('vllm')
    await drive(meter, {
      url: '/v1/embeddings',
      body: JSON.stringify({ model: MODEL, input: ['Hello, my dog is cute', 'Hello!'] }),
      contentType: 'application/json',
      chunks: chunked(body, size, 1020),
      endAtMs: 1030,
    })
    const labels = {
      gen_ai_operation_name: 'embeddings',
      gen_ai_request_model: MODEL,
      gen_ai_provider_name: 'vllm',
      context_class: 'short',
    }
    const input = await tokens(registry, 'input', labels)
    assert.deepEqual([input.count, input.sum], [1, 4321], `chunks of ${size}`)
    assert.equal((await tokens(registry, 'output')).count, 0, 'embeddings have no output tokens')
    assert.equal(
      (await readHistogram(registry, 'gen_ai_server_time_to_first_token_seconds')).count,
      0,
    )
    const dur = await readHistogram(registry, 'gen_ai_server_request_duration_seconds', {
      ...labels,
      error_type: '',
    })
    assert.deepEqual([dur.count, Number(dur.sum.toFixed(6))], [1, 0.03])
  }
})

test('/v1/embeddings without usage: every input of a batch counted on its own and summed', async () => {
  const inputs = ['Hello, my dog is cute', 'aaaa', 'aaaa', ' the', 'ory', '你好，世界']
  let each = 0
  for (const s of inputs) each += (await counter.countText(s)) ?? Number.NaN
  const joined = (await counter.countText(inputs.join(''))) ?? Number.NaN
  assert.notEqual(each, joined, 'the parts must not simply be concatenated')
  const { registry, meter } = newMeter()
  await drive(meter, {
    url: '/v1/embeddings',
    body: JSON.stringify({ input: inputs }),
    contentType: 'application/json',
    chunks: [[1010, embeddingsBody(4, 8)]],
    endAtMs: 1010,
  })
  assert.equal((await tokens(registry, 'input', { gen_ai_operation_name: 'embeddings' })).sum, each)

  // Token-id inputs: their lengths; a body over 64 KiB is parsed and counted in the worker.
  registry.resetMetrics()
  await drive(meter, {
    url: '/v1/embeddings',
    body: JSON.stringify({
      input: [
        [1, 2, 3],
        [4, 5],
      ],
    }),
    contentType: 'application/json',
    chunks: [[1010, embeddingsBody(2, 8)]],
    endAtMs: 1010,
  })
  assert.equal((await tokens(registry, 'input')).sum, 5)
  registry.resetMetrics()
  const rounds = 1200
  const big = Array.from(
    { length: rounds * inputs.length },
    (_, i) => inputs[i % inputs.length] as string,
  )
  const bigBody = JSON.stringify({ input: big })
  assert.ok(bigBody.length > 64 * 1024)
  await drive(meter, {
    url: '/v1/embeddings',
    body: bigBody,
    contentType: 'application/json',
    chunks: [[1010, embeddingsBody(1, 8)]],
    endAtMs: 1010,
  })
  assert.equal((await tokens(registry, 'input')).sum, each * rounds)
  // A failed embeddings request: its duration with the status, no tokens.
  registry.resetMetrics()
  await drive(meter, {
    url: '/v1/embeddings',
    body: JSON.stringify({ input: 'x' }),
    status: 400,
    contentType: 'application/json',
    chunks: [[1005, JSON.stringify({ error: { code: 400, message: 'pooling' } })]],
    endAtMs: 1005,
  })
  const failed = await readHistogram(registry, 'gen_ai_server_request_duration_seconds', {
    gen_ai_operation_name: 'embeddings',
    error_type: '400',
  })
  assert.equal(failed.count, 1)
  assert.equal((await tokens(registry, 'input')).count, 0)
})

test('a whole chat body: counts from the usage at its end (cut anywhere); a usage without both counts falls back to the text', async () => {
  const reply = (usage: object, content = 'Hello there, "usage" is just a word here', more = {}) =>
    JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      model: MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage,
      // vLLM and llama.cpp put more keys after usage.
      prompt_logprobs: null,
      ...more,
    })
  const labels = { gen_ai_operation_name: 'chat', gen_ai_request_model: MODEL }
  const request = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] })
  for (const size of [1, 5, 64, 100_000]) {
    const { registry, meter } = newMeter('vllm')
    await drive(meter, {
      body: request,
      contentType: 'application/json',
      chunks: chunked(
        reply({
          prompt_tokens: 11,
          total_tokens: 18,
          completion_tokens: 7,
          prompt_tokens_details: null,
        }),
        size,
        1020,
      ),
      endAtMs: 1030,
    })
    const input = await tokens(registry, 'input', labels)
    const output = await tokens(registry, 'output', labels)
    assert.deepEqual([input.sum, output.sum], [11, 7], `chunks of ${size}`)
  }
  // Only the prompt count: the output is the message text, counted with the tokenizer.
  const text = 'Hello there, "usage" is just a word here'
  const expected = (await counter.countText(text)) ?? Number.NaN
  const { registry, meter } = newMeter('vllm')
  await drive(meter, {
    body: request,
    contentType: 'application/json',
    chunks: [[1020, Buffer.from(reply({ prompt_tokens: 11 }, text))]],
    endAtMs: 1030,
  })
  assert.deepEqual(
    [(await tokens(registry, 'input', labels)).sum, (await tokens(registry, 'output', labels)).sum],
    [11, expected],
  )
})
