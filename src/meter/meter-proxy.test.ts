// End to end: client -> real proxy -> scripted engine, metered by the real meter. The schedule is
// known (first content at 80 ms, then a token every 15 ms), so TTFT, TPOT and duration must match
// it within a few milliseconds and token counts exactly, for every API format, streamed and not.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Registry } from 'prom-client'
import { parseHttpUrl } from '../config/index.js'
import { type ProxyHandle, startProxy } from '../proxy/index.js'
import { type ScriptedEngine, startScriptedEngine } from '../sim/index.js'
import { gaugeValue, readHistogram, until } from '../testing/registry-values.js'
import { createTokenCounter, type TokenCounter } from '../tokens/index.js'
import { createMeter, type MeterHandle } from './index.js'

const MODEL = 'qwen3-4b-instruct-2507'
// Prompts from src/tokens/testdata/hf-reference.json, so their Qwen3 counts are the engine's.
const TEXT = 'Hello, my dog is cute' // 6 tokens
const CHAT = [{ role: 'user', content: 'Hello!' }] // 10 tokens once rendered as ChatML
const ENGINE_PROMPT_TOKENS = 321 // what the scripted engine reports where the engine reports it

let engine: ScriptedEngine
let proxy: ProxyHandle
let meter: MeterHandle
let registry: Registry
let counter: TokenCounter

before(async () => {
  engine = await startScriptedEngine({ promptTokens: ENGINE_PROMPT_TOKENS, outputTokens: 8 })
  registry = new Registry()
  counter = createTokenCounter()
  meter = createMeter({
    registry,
    contextClasses: { mediumFromTokens: 32768, longFromTokens: 100000 },
    tokenCounter: counter,
  })
  meter.setServedModels([MODEL], 'vllm')
  proxy = await startProxy({ upstream: parseHttpUrl(engine.url, 'upstream'), meter })
  // Warm-up: the tokenizer loads in the worker (1-3 s) and the first connection is set up.
  await counter.countText('x')
  await (await fetch(`${proxy.url}/v1/models`)).arrayBuffer()
  await exchange('/v1/completions', { model: MODEL, prompt: TEXT })
})
after(async () => {
  await proxy.close()
  await engine.close()
  await meter.close()
  await counter.close()
})

/** Sends one request; returns when the client received each body chunk (performance.now()). */
async function exchange(
  path: string,
  body: unknown,
): Promise<{ sentAtMs: number; chunkAtMs: number[] }> {
  registry.resetMetrics()
  const sentAtMs = performance.now()
  const res = await fetch(`${proxy.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const chunkAtMs: number[] = []
  for await (const _ of res.body as AsyncIterable<Uint8Array>) chunkAtMs.push(performance.now())
  await until(
    async () =>
      (await readHistogram(registry, 'gen_ai_server_request_duration_seconds')).count >= 1,
  )
  await meter.settled()
  return { sentAtMs, chunkAtMs }
}

interface Case {
  name: string
  path: string
  body: unknown
  stream: boolean
  operation: string
  provider: string
  model: string
  input: number
}

const cases: Case[] = [
  {
    name: 'chat, streamed, include_usage',
    path: '/v1/chat/completions',
    body: { model: MODEL, messages: CHAT, stream: true, stream_options: { include_usage: true } },
    stream: true,
    operation: 'chat',
    provider: 'vllm',
    model: MODEL,
    input: ENGINE_PROMPT_TOKENS,
  },
  {
    name: 'chat, streamed, no usage (counted)',
    path: '/v1/chat/completions',
    body: { model: MODEL, messages: CHAT, stream: true },
    stream: true,
    operation: 'chat',
    provider: 'vllm',
    model: MODEL,
    input: 10,
  },
  {
    name: 'chat, not streamed',
    path: '/v1/chat/completions',
    body: { model: MODEL, messages: CHAT },
    stream: false,
    operation: 'chat',
    provider: 'vllm',
    model: MODEL,
    input: ENGINE_PROMPT_TOKENS,
  },
  {
    name: 'completions, streamed, include_usage',
    path: '/v1/completions',
    body: { model: MODEL, prompt: TEXT, stream: true, stream_options: { include_usage: true } },
    stream: true,
    operation: 'text_completion',
    provider: 'vllm',
    model: MODEL,
    input: ENGINE_PROMPT_TOKENS,
  },
  {
    name: 'completions, streamed, no usage (counted)',
    path: '/v1/completions',
    body: { model: MODEL, prompt: TEXT, stream: true },
    stream: true,
    operation: 'text_completion',
    provider: 'vllm',
    model: MODEL,
    input: 6,
  },
  {
    name: 'completions, not streamed',
    path: '/v1/completions',
    body: { model: MODEL, prompt: TEXT },
    stream: false,
    operation: 'text_completion',
    provider: 'vllm',
    model: MODEL,
    input: ENGINE_PROMPT_TOKENS,
  },
  {
    name: 'vLLM demo /generate, NDJSON stream',
    path: '/generate',
    body: { prompt: TEXT, stream: true },
    stream: true,
    operation: 'generate',
    provider: 'vllm',
    model: 'unknown',
    input: 6,
  },
  {
    name: 'vLLM demo /generate, not streamed',
    path: '/generate',
    body: { prompt: TEXT },
    stream: false,
    operation: 'generate',
    provider: 'vllm',
    model: 'unknown',
    input: 6,
  },
  {
    name: 'TGI /generate (x-*-tokens headers)',
    path: '/generate',
    body: { inputs: TEXT, parameters: { max_new_tokens: 8 } },
    stream: false,
    operation: 'generate',
    provider: 'tgi',
    model: 'unknown',
    input: ENGINE_PROMPT_TOKENS,
  },
  {
    name: 'TGI /generate_stream (no [DONE])',
    path: '/generate_stream',
    body: { inputs: TEXT, parameters: { max_new_tokens: 8 } },
    stream: true,
    operation: 'generate',
    provider: 'tgi',
    model: 'unknown',
    input: ENGINE_PROMPT_TOKENS,
  },
  {
    name: 'SGLang /generate, streamed',
    path: '/generate',
    body: { text: TEXT, stream: true },
    stream: true,
    operation: 'generate',
    provider: 'sglang',
    model: 'unknown',
    input: ENGINE_PROMPT_TOKENS,
  },
  {
    name: 'SGLang /generate, not streamed',
    path: '/generate',
    body: { text: TEXT },
    stream: false,
    operation: 'generate',
    provider: 'sglang',
    model: 'unknown',
    input: ENGINE_PROMPT_TOKENS,
  },
  {
    name: 'llama.cpp /completion, streamed',
    path: '/completion',
    body: { prompt: TEXT, stream: true },
    stream: true,
    operation: 'generate',
    provider: 'llamacpp',
    model: 'unknown',
    input: ENGINE_PROMPT_TOKENS,
  },
  {
    name: 'llama.cpp /completion, not streamed',
    path: '/completion',
    body: { prompt: TEXT },
    stream: false,
    operation: 'generate',
    provider: 'llamacpp',
    model: 'unknown',
    input: ENGINE_PROMPT_TOKENS,
  },
]

for (const c of cases) {
  test(`metered to the schedule: ${c.name}`, async () => {
    const client = await exchange(c.path, c.body)
    const labels = {
      gen_ai_operation_name: c.operation,
      gen_ai_request_model: c.model,
      gen_ai_provider_name: c.provider,
      context_class: 'short',
    }
    // Engine, proxy and client share one clock (one process), and the engine's timers fire late on
    // a busy machine, so the meter is held between what causality allows: no less than the engine's
    // own times (its write times, themselves held to the schedule), no more than the client's (sent
    // before the proxy's arrival, received after the proxy observed the chunk).
    const rec = engine.requests.at(-1)
    assert.ok(rec?.endAtMs !== undefined && rec.tokenAtMs.length > 0)
    const firstS = ((rec.tokenAtMs[0] as number) - rec.receivedAtMs) / 1000
    const endS = (rec.endAtMs - rec.receivedAtMs) / 1000
    assert.ok(
      firstS >= (c.stream ? 0.08 : 0.185) && endS >= 0.185,
      `engine schedule ${firstS} ${endS}`,
    )
    const tokenAt = rec.tokenAtMs[0] as number
    const clientFirstS =
      ((client.chunkAtMs.find((at) => at >= tokenAt) ?? Number.NaN) - client.sentAtMs) / 1000
    const clientEndS = ((client.chunkAtMs.at(-1) as number) - client.sentAtMs) / 1000
    const duration = await readHistogram(registry, 'gen_ai_server_request_duration_seconds', {
      ...labels,
      error_type: '',
    })
    assert.equal(duration.count, 1)
    // (+5 ms: the proxy's end() follows its last write and may run after the client's read)
    assert.ok(
      duration.sum >= endS && duration.sum <= clientEndS + 0.005,
      `duration ${duration.sum}: engine ${endS}, client ${clientEndS}`,
    )
    const ttft = await readHistogram(registry, 'gen_ai_server_time_to_first_token_seconds', labels)
    const tpot = await readHistogram(
      registry,
      'gen_ai_server_time_per_output_token_seconds',
      labels,
    )
    if (c.stream) {
      assert.equal(ttft.count, 1)
      assert.ok(
        ttft.sum >= firstS && ttft.sum <= clientFirstS,
        `ttft ${ttft.sum}: engine ${firstS}, client ${clientFirstS}`,
      )
      assert.equal(tpot.count, 1)
      // TPOT is the meter's own (duration - TTFT) / 7 ...
      const ttftS = ttft.sum
      assert.ok(Math.abs(tpot.sum - (duration.sum - ttftS) / 7) < 1e-9)
      // and so lies between the engine's token spacing and the client's, as causality bounds it:
      // 7 x TPOT = end - first content, both observed at the proxy (absolute times).
      const engineFirstAt = rec.tokenAtMs[0] as number
      const clientFirstAt = client.chunkAtMs.find((at) => at >= engineFirstAt) ?? Number.NaN
      const lo = (rec.endAtMs - clientFirstAt) / 7000
      const hi = ((client.chunkAtMs.at(-1) as number) + 5 - engineFirstAt) / 7000
      assert.ok(tpot.sum >= lo && tpot.sum <= hi, `tpot ${tpot.sum} outside [${lo}, ${hi}]`)
    } else {
      assert.equal(ttft.count, 0)
      assert.equal(tpot.count, 0)
    }
    const input = await readHistogram(registry, 'gen_ai_client_token_usage', {
      ...labels,
      gen_ai_token_type: 'input',
    })
    const output = await readHistogram(registry, 'gen_ai_client_token_usage', {
      ...labels,
      gen_ai_token_type: 'output',
    })
    assert.deepEqual([input.count, input.sum], [1, c.input])
    assert.deepEqual([output.count, output.sum], [1, 8])
  })
}

test('in flight while streaming, by model and context class; back to 0 after', async () => {
  registry.resetMetrics()
  const res = await fetch(`${proxy.url}/v1/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: MODEL, prompt: TEXT, stream: true }),
  })
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  await reader.read()
  assert.equal(
    await gaugeValue(registry, 'inferwatch_requests_in_flight', {
      gen_ai_request_model: MODEL,
      context_class: 'short',
    }),
    1,
  )
  while (!(await reader.read()).done) {}
  await until(async () => (await gaugeValue(registry, 'inferwatch_requests_in_flight', {})) === 0)
  await until(
    async () =>
      (await readHistogram(registry, 'gen_ai_server_request_duration_seconds')).count >= 1,
  )
  await meter.settled()
})

test('engine errors, resets and client aborts get their error_type and no TTFT or tokens', async (t) => {
  t.after(() => engine.set({ failure: { kind: 'none' }, firstTokenMs: 80 }))
  engine.set({ failure: { kind: 'status', status: 503 } })
  await exchange('/v1/completions', { model: MODEL, prompt: TEXT, stream: true })
  assert.equal(
    (await readHistogram(registry, 'gen_ai_server_request_duration_seconds', { error_type: '503' }))
      .count,
    1,
  )
  assert.equal((await readHistogram(registry, 'gen_ai_client_token_usage')).count, 0)

  engine.set({ failure: { kind: 'reset', afterTokens: 3 } })
  await exchange('/v1/completions', { model: MODEL, prompt: TEXT, stream: true }).catch(() => {})
  await until(
    async () =>
      (await readHistogram(registry, 'gen_ai_server_request_duration_seconds')).count >= 1,
  )
  await meter.settled()
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

  engine.set({ failure: { kind: 'none' }, firstTokenMs: 5 })
  registry.resetMetrics()
  const ac = new AbortController()
  const res = await fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: MODEL, messages: CHAT, stream: true }),
    signal: ac.signal,
  })
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  await reader.read()
  ac.abort()
  await until(
    async () =>
      (await readHistogram(registry, 'gen_ai_server_request_duration_seconds')).count >= 1,
  )
  await meter.settled()
  assert.equal(
    (
      await readHistogram(registry, 'gen_ai_server_request_duration_seconds', {
        error_type: 'client_abort',
        gen_ai_request_model: MODEL,
      })
    ).count,
    1,
  )
  assert.equal(await gaugeValue(registry, 'inferwatch_requests_in_flight', {}), 0)
})
