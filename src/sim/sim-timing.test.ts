import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parsePrometheusText } from '../engines/index.js'
import { planCapacity, resolveGpu } from '../plan/index.js'
import { loadQwen3Tokenizer, parseChatMessages, renderChatPrompt } from '../tokens/index.js'
import { type EngineSimulator, startSimulator } from './index.js'

// The simulator's timings against the capacity model of `inferwatch plan`, computed here from
// plan's figures (not from the simulator's own model): a lone prompt's time to first token is
// its prefill, 2 x parameters FLOPs per token plus attention over the context at the card's dense
// BF16 FLOP/s; each later token takes one decode step, weights plus the sequence's KV read at the
// card's memory bandwidth. Checked on both sides: the engine's own histograms (simulated seconds,
// exact) and the client's wall clock times the speed (within timer jitter).

const MODEL = 'qwen3-4b-instruct-2507'
const GPU = 'rtx-4090d'

function modelled(prompt: number, outputs: number) {
  const plan = planCapacity({ model: MODEL, gpu: GPU, gpuMemoryUtilization: 0.9 })
  const flops = resolveGpu(GPU).bf16FlopsPerSecond ?? 0
  const m = plan.model
  const attention = 4 * m.layers * m.attentionHeads * m.headDim * prompt * ((prompt + 1) / 2)
  const prefill = (2 * m.activeParams * prompt + attention) / flops
  // Decode step k reads the weights (tied embeddings: no separate lm_head) and prompt + k tokens of KV.
  let decode = 0
  for (let k = 1; k < outputs; k++)
    decode +=
      (m.params * 2 + (prompt + k) * plan.kvBytesPerToken) / plan.gpu.bandwidthBytesPerSecond
  return { prefill, tpot: decode / (outputs - 1) }
}

async function start(speed: number): Promise<EngineSimulator> {
  return startSimulator({
    engine: 'vllm',
    model: MODEL,
    gpu: GPU,
    gpuMemoryUtilization: 0.9,
    speed,
    host: '127.0.0.1',
    port: 0,
  })
}

async function metric(sim: EngineSimulator, name: string): Promise<number> {
  const x = parsePrometheusText(await (await fetch(`${sim.url}/metrics`)).text())
  return x.samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0)
}

test('one request: TTFT is the modelled prefill, TPOT the modelled decode step (engine and client side)', async (t) => {
  // Real time: the wall-clock side is then only off by timer and scheduling jitter.
  const speed = 1
  const sim = await start(speed)
  t.after(() => sim.close())
  const prompt = 3000
  const outputs = 60
  const want = modelled(prompt, outputs)
  assert.ok(want.prefill > 0.1 && want.prefill < 0.25, `prefill ${want.prefill}`)
  assert.ok(want.tpot > 0.007 && want.tpot < 0.01, `tpot ${want.tpot}`)

  // A first exchange warms the client's connection pool and the server's code paths.
  const warm = await fetch(`${sim.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: sim.model, prompt: [1, 2, 3], max_tokens: 1 }),
  })
  await warm.arrayBuffer()
  const ttftBefore = await metric(sim, 'vllm:time_to_first_token_seconds_sum')
  const tpotBefore = await metric(sim, 'vllm:request_time_per_output_token_seconds_sum')

  // Token ids: the prompt length is exact without the tokenizer.
  const sent = performance.now()
  const res = await fetch(`${sim.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: sim.model,
      prompt: Array.from({ length: prompt }, (_, i) => 1000 + (i % 5000)),
      max_tokens: outputs,
      stream: true,
      stream_options: { include_usage: true },
    }),
  })
  assert.equal(res.status, 200)
  const at: number[] = []
  let usage: { prompt_tokens: number; completion_tokens: number } | undefined
  const decoder = new TextDecoder()
  let buf = ''
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    const now = performance.now()
    buf += decoder.decode(chunk, { stream: true })
    let i = buf.indexOf('\n\n')
    while (i !== -1) {
      const event = buf.slice(0, i).replace(/^data: /, '')
      buf = buf.slice(i + 2)
      i = buf.indexOf('\n\n')
      if (event === '[DONE]') continue
      const j = JSON.parse(event) as { choices: { text: string }[]; usage?: typeof usage }
      if (j.usage) usage = j.usage
      for (const c of j.choices) if (c.text) at.push(now)
    }
  }
  assert.deepEqual(usage && [usage.prompt_tokens, usage.completion_tokens], [prompt, outputs])
  assert.equal(at.length, outputs)

  // Engine side, simulated seconds: the model itself.
  const ttft = (await metric(sim, 'vllm:time_to_first_token_seconds_sum')) - ttftBefore
  const tpot = (await metric(sim, 'vllm:request_time_per_output_token_seconds_sum')) - tpotBefore
  assert.ok(
    Math.abs(ttft - want.prefill) / want.prefill < 0.01,
    `engine TTFT ${ttft} vs ${want.prefill}`,
  )
  assert.ok(Math.abs(tpot - want.tpot) / want.tpot < 0.02, `engine TPOT ${tpot} vs ${want.tpot}`)
  assert.ok(Math.abs(sim.timing.prefillSeconds(prompt) - want.prefill) / want.prefill < 0.01)

  // Client side: wall clock x speed.
  const clientTtft = (((at[0] ?? 0) - sent) / 1000) * speed
  const clientTpot = ((((at.at(-1) ?? 0) - (at[0] ?? 0)) / (outputs - 1)) * speed) / 1000
  assert.ok(
    clientTtft > want.prefill * 0.95 && clientTtft < want.prefill * 1.3 + 0.04,
    `client TTFT ${clientTtft} vs ${want.prefill}`,
  )
  assert.ok(
    Math.abs(clientTpot - want.tpot) / want.tpot < 0.3,
    `client TPOT ${clientTpot} vs ${want.tpot}`,
  )
})

test('prompts are counted with the real Qwen3 tokenizer; a repeated prompt hits the prefix cache', async (t) => {
  const sim = await start(20)
  t.after(() => sim.close())
  await sim.warmTokenizer()
  const messages = [
    { role: 'system', content: 'You are a careful assistant. '.repeat(40) },
    {
      role: 'user',
      content: 'Summarise the history of the Prometheus exposition format in detail.',
    },
  ]
  const tok = await loadQwen3Tokenizer()
  const expected = tok.countTokens(renderChatPrompt(parseChatMessages(messages) ?? []))
  const ask = async () => {
    const res = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: sim.model, messages, max_tokens: 4 }),
    })
    return (await res.json()) as { usage: { prompt_tokens: number } }
  }
  assert.equal((await ask()).usage.prompt_tokens, expected)
  const firstTtft = await metric(sim, 'vllm:time_to_first_token_seconds_sum')
  assert.equal((await ask()).usage.prompt_tokens, expected)
  const secondTtft = (await metric(sim, 'vllm:time_to_first_token_seconds_sum')) - firstTtft
  // Counted once each: the prompt tokens the engine saw are the exact count, twice.
  assert.equal(await metric(sim, 'vllm:prompt_tokens_total'), 2 * expected)
  assert.equal(await metric(sim, 'vllm:prefix_cache_queries_total'), 2 * expected)
  const hits = await metric(sim, 'vllm:prefix_cache_hits_total')
  assert.equal(hits, Math.floor((expected - 1) / 16) * 16)
  assert.ok(secondTtft < firstTtft, `cached prefill ${secondTtft} vs ${firstTtft}`)
  assert.deepEqual(sim.usage(), { requests: 2, promptTokens: 2 * expected, completionTokens: 8 })
})

test('/tokenize answers the real Qwen3 ids (vLLM: count and max_model_len too)', async (t) => {
  const sim = await start(20)
  t.after(() => sim.close())
  const tok = await loadQwen3Tokenizer()
  const prompt = 'Tokenizers split text into pieces; 数字 and emoji 🙂 too.'
  const res = await fetch(`${sim.url}/tokenize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: sim.model, prompt }),
  })
  const body = (await res.json()) as { count: number; max_model_len: number; tokens: number[] }
  assert.deepEqual(body.tokens, tok.encode(prompt))
  assert.equal(body.count, body.tokens.length)
  assert.equal(body.max_model_len, sim.maxModelLen)
})
