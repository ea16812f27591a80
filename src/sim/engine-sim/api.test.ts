import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { test } from 'node:test'
import { findSamples, parsePrometheusText } from '../../engines/index.js'
import { planCapacity } from '../../plan/index.js'
import { readSharedFixture, SHARED_SKIP } from '../../testing/shared-fixtures.js'
import { startSimulator } from '../index.js'
import type { SimulatorOptions } from '../simulator-types.js'
import { ITL_BUCKETS, REQUEST_LATENCY_BUCKETS, TTFT_BUCKETS } from './_metrics.js'

const BASE: SimulatorOptions = {
  engine: 'vllm',
  model: 'qwen3-4b-instruct-2507',
  gpu: 'rtx-4090d',
  gpuMemoryUtilization: 0.9,
  speed: 10,
  host: '127.0.0.1',
  port: 0,
}

async function metrics(url: string) {
  return parsePrometheusText(await (await fetch(`${url}/metrics`)).text())
}

test('/metrics parses, has vLLM names, types and labels, and the real sample’s TTFT buckets', async (t) => {
  const sim = await startSimulator(BASE)
  t.after(() => sim.close())
  const res = await fetch(`${sim.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: sim.model, prompt: 'hello there', max_tokens: 3 }),
  })
  assert.equal(res.status, 200)
  await res.json()
  const m = await metrics(sim.url)
  const types: Record<string, string> = {
    'vllm:num_requests_running': 'gauge',
    'vllm:num_requests_waiting': 'gauge',
    'vllm:kv_cache_usage_perc': 'gauge',
    'vllm:num_preemptions_total': 'counter',
    'vllm:prompt_tokens_total': 'counter',
    'vllm:generation_tokens_total': 'counter',
    'vllm:request_success_total': 'counter',
    'vllm:time_to_first_token_seconds': 'histogram',
    'vllm:inter_token_latency_seconds': 'histogram',
    'vllm:e2e_request_latency_seconds': 'histogram',
    'vllm:request_queue_time_seconds': 'histogram',
    'vllm:request_prefill_time_seconds': 'histogram',
    'vllm:request_decode_time_seconds': 'histogram',
    'vllm:request_prompt_tokens': 'histogram',
    'vllm:request_generation_tokens': 'histogram',
    'vllm:cache_config_info': 'gauge',
  }
  for (const [name, type] of Object.entries(types))
    assert.equal(m.metadata.get(name)?.type, type, name)
  assert.equal(m.metadata.get('vllm:gpu_cache_usage_perc'), undefined)
  const labels = { engine: '0', model_name: sim.model }
  assert.equal(findSamples(m, 'vllm:generation_tokens_total', labels)[0]?.value, 3)
  assert.equal(
    findSamples(m, 'vllm:request_success_total', { ...labels, finished_reason: 'length' })[0]
      ?.value,
    1,
  )
  const info = findSamples(m, 'vllm:cache_config_info')[0]
  assert.equal(Number(info?.labels.num_gpu_blocks) * 16, sim.kvTokenBudget)
  assert.equal(info?.labels.block_size, '16')

  const les = (name: string) =>
    findSamples(m, `${name}_bucket`, labels)
      .map((s) => s.labels.le)
      .filter((le) => le !== '+Inf')
      .map(Number)
  assert.deepEqual(les('vllm:time_to_first_token_seconds'), TTFT_BUCKETS)
  assert.deepEqual(les('vllm:inter_token_latency_seconds'), ITL_BUCKETS)
  assert.deepEqual(les('vllm:e2e_request_latency_seconds'), REQUEST_LATENCY_BUCKETS)
})

const SAMPLE = readSharedFixture('engines/vllm-docs-design-metrics-0328b592.prom')
test('the real vLLM sample’s (truncated) TTFT buckets are where ours begin', {
  skip: SAMPLE ? false : SHARED_SKIP,
}, () => {
  // the capture elides lines with "..."
  const sample = parsePrometheusText((SAMPLE as string).replace(/^\.\.\.$/gm, ''))
  const real = findSamples(sample, 'vllm:time_to_first_token_seconds_bucket').map((s) =>
    Number(s.labels.le),
  )
  assert.ok(real.length >= 8)
  assert.deepEqual(TTFT_BUCKETS.slice(0, real.length), real)
})

test('engine versions switch the KV and per-token metric names', async (t) => {
  for (const [engineVersion, kv, tok] of [
    ['0.8', ['vllm:gpu_cache_usage_perc'], ['vllm:time_per_output_token_seconds']],
    [
      '0.10',
      ['vllm:gpu_cache_usage_perc', 'vllm:kv_cache_usage_perc'],
      ['vllm:time_per_output_token_seconds', 'vllm:inter_token_latency_seconds'],
    ],
  ] as const) {
    const sim = await startSimulator({ ...BASE, engineVersion })
    t.after(() => sim.close())
    const m = await metrics(sim.url)
    const names = [...m.metadata.keys()]
    assert.deepEqual(
      names.filter((n) => n.endsWith('cache_usage_perc')).sort(),
      [...kv].sort(),
      engineVersion,
    )
    assert.deepEqual(
      names.filter((n) => /time_per_output_token_seconds|inter_token_latency/.test(n)).sort(),
      [...tok].sort(),
    )
    const v = (await (await fetch(`${sim.url}/version`)).json()) as { version: string }
    assert.equal(v.version, engineVersion)
  }
})

test('/v1/models, /health, and an over-long prompt gets vLLM’s 400 body', async (t) => {
  const sim = await startSimulator({ ...BASE, maxModelLen: 4096 })
  t.after(() => sim.close())
  assert.equal((await fetch(`${sim.url}/health`)).status, 200)
  const models = (await (await fetch(`${sim.url}/v1/models`)).json()) as {
    data: { id: string; max_model_len: number }[]
  }
  assert.deepEqual(
    models.data.map((d) => [d.id, d.max_model_len]),
    [[sim.model, 4096]],
  )
  const res = await fetch(`${sim.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    // 20000 bytes: about 5000 tokens
    body: JSON.stringify({ model: sim.model, prompt: 'abcd'.repeat(5000), max_tokens: 10 }),
  })
  assert.equal(res.status, 400)
  assert.deepEqual(await res.json(), {
    object: 'error',
    message:
      "This model's maximum context length is 4096 tokens. However, you requested 5010 tokens (5000 in the messages, 10 in the completion). Please reduce the length of the messages or completion.",
    type: 'BadRequestError',
    param: null,
    code: 400,
  })
})

test('a lone streamed request: usage chunk, TTFT and inter-token gap follow the model', async (t) => {
  const sim = await startSimulator(BASE)
  t.after(() => sim.close())
  const plan = planCapacity({ model: BASE.model, gpu: BASE.gpu, gpuMemoryUtilization: 0.9 })
  const promptTokens = 8000
  const outputTokens = 150
  const bw = plan.gpu.bandwidthBytesPerSecond
  // Expected, simulated seconds: one prefill step (8000 <= 8192 tokens, compute at 150 TFLOP/s
  // plus one weights read), then one weights + KV read per decode step.
  const prefillS = (2 * plan.model.activeParams * promptTokens) / 150e12 + plan.weightBytes / bw
  const decodeS = (plan.weightBytes + (promptTokens + outputTokens / 2) * plan.kvBytesPerToken) / bw

  const res = await fetch(`${sim.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: sim.model,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: outputTokens,
      stream: true,
      stream_options: { include_usage: true },
    }),
  })
  assert.equal(res.status, 200)
  // (chat: the prompt is the rendered ChatML, so /v1/completions below is the exact-length case)
  const chatEvents = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: {'))
  assert.match(chatEvents[0] as string, /"delta":\{"role":"assistant","content":""\}/)
  const chatUsage = JSON.parse((chatEvents.at(-1) as string).slice(6)) as {
    usage: { prompt_tokens: number; completion_tokens: number }
  }
  assert.equal(chatUsage.usage.completion_tokens, outputTokens)
  const t1 = performance.now()
  const res2 = await fetch(`${sim.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: sim.model,
      prompt: 'abcd'.repeat(promptTokens),
      max_tokens: outputTokens,
      stream: true,
      stream_options: { include_usage: true },
    }),
  })
  const tokenAt: number[] = []
  let body = ''
  const decoder = new TextDecoder()
  for await (const chunk of res2.body as AsyncIterable<Uint8Array>) {
    const text = decoder.decode(chunk, { stream: true })
    const n = (text.match(/"text":/g) ?? []).length
    for (let i = 0; i < n; i++) tokenAt.push(performance.now())
    body += text
  }
  const events = body
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice(6))
  assert.equal(events.at(-1), '[DONE]')
  const usage = JSON.parse(events.at(-2) as string) as {
    choices: unknown[]
    usage: { prompt_tokens: number; completion_tokens: number }
  }
  assert.deepEqual(usage.choices, [])
  assert.deepEqual(usage.usage, {
    prompt_tokens: promptTokens,
    completion_tokens: outputTokens,
    total_tokens: promptTokens + outputTokens,
  })
  assert.equal(tokenAt.length, outputTokens)

  // Wall clock, at speed 10 (timer granularity: ~1 ms per wake-up; a stalled event loop delays
  // tokens, which the scheduler then catches up in a burst, so the bounds are loose).
  const ttftWall = (((tokenAt[0] as number) - t1) / 1000) * BASE.speed
  assert.ok(
    ttftWall > prefillS * 0.8 && ttftWall < prefillS * 2 + 0.2,
    `TTFT ${ttftWall} vs ${prefillS}`,
  )
  const gapWall =
    (((tokenAt.at(-1) as number) - (tokenAt[0] as number)) / (outputTokens - 1) / 1000) * BASE.speed
  assert.ok(gapWall > decodeS * 0.5 && gapWall < decodeS * 2, `gap ${gapWall} vs ${decodeS}`)

  // The engine's own histograms, in simulated seconds: exact to the model.
  const m = await metrics(sim.url)
  const labels = { engine: '0', model_name: sim.model }
  const sums = (name: string) => findSamples(m, `${name}_sum`, labels)[0]?.value as number
  const counts = (name: string) => findSamples(m, `${name}_count`, labels)[0]?.value as number
  assert.equal(counts('vllm:time_to_first_token_seconds'), 2)
  const itlCount = counts('vllm:inter_token_latency_seconds')
  assert.equal(itlCount, 2 * (outputTokens - 1))
  // Both requests decode with ~the same weights read; the long one reads ~8000 tokens of KV more.
  const meanGap = sums('vllm:inter_token_latency_seconds') / itlCount
  const shortGap = (plan.weightBytes + 100 * plan.kvBytesPerToken) / bw
  const mid = (decodeS + shortGap) / 2
  assert.ok(Math.abs(meanGap - mid) / mid < 0.03, `mean gap ${meanGap} vs ${mid}`)
  // The second request's TTFT is most of the sum (the chat prompt is ~10 tokens).
  const ttftSum = sums('vllm:time_to_first_token_seconds')
  assert.ok(
    ttftSum > prefillS && ttftSum < prefillS + (2 * plan.weightBytes) / bw + 0.01,
    `${ttftSum}`,
  )
  assert.equal(
    findSamples(m, 'vllm:prompt_tokens_total', labels)[0]?.value,
    promptTokens + chatUsage.usage.prompt_tokens,
  )
})
