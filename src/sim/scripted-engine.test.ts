import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { test } from 'node:test'
import { startScriptedEngine } from './scripted-engine.js'

async function post(url: string, body: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return res
}

// biome-ignore lint/suspicious/noExplicitAny: test reads known JSON shapes
type Any = any
const json = async (res: Response): Promise<Any> => res.json()

async function readTimed(
  res: Response,
): Promise<{ text: string; times: { atMs: number; text: string }[] }> {
  const times: { atMs: number; text: string }[] = []
  const dec = new TextDecoder()
  let text = ''
  for await (const c of res.body as AsyncIterable<Uint8Array>) {
    const s = dec.decode(c, { stream: true })
    times.push({ atMs: performance.now(), text: s })
    text += s
  }
  return { text, times }
}

test('chat stream: role chunk at once, content on schedule, usage chunk, [DONE]', async (t) => {
  const engine = await startScriptedEngine({ promptTokens: 42, outputTokens: 4 })
  t.after(() => engine.close())
  const res = await post(`${engine.url}/v1/chat/completions`, {
    model: 'qwen3-4b-instruct-2507',
    messages: [{ role: 'user', content: 'Hi' }],
    stream: true,
    stream_options: { include_usage: true },
  })
  assert.equal(res.headers.get('content-type'), 'text/event-stream')
  const { text, times } = await readTimed(res)
  // Measured from the engine's own arrival time (same process, same clock).
  const t0 = engine.requests[0]?.receivedAtMs ?? Number.NaN
  const events = text.split('\n\n').filter(Boolean)
  assert.match(events[0] as string, /"role":"assistant","content":""/)
  assert.equal(events.at(-1), 'data: [DONE]')
  const usage = JSON.parse((events.at(-2) as string).slice(6)).usage
  assert.deepEqual(usage, { prompt_tokens: 42, completion_tokens: 4, total_tokens: 46 })
  const firstContent = times.find((x) => x.text.includes('" Hello"'))
  assert.ok(firstContent)
  const ttft = firstContent.atMs - t0
  // Never early (timers may only fire late, on a busy machine): first content at 80 ms or later,
  // each further token at least 15 ms after the previous one's slot.
  assert.ok(ttft >= 80 && ttft < 5000, `ttft ${ttft}`)
  const rec = engine.requests[0]
  assert.ok(rec)
  assert.equal(rec.tokenAtMs.length, 4)
  rec.tokenAtMs.forEach((at, i) => {
    assert.ok(at - t0 >= 80 + 15 * i, `token ${i} at ${at - t0} ms`)
  })
  const total = (times.at(-1)?.atMs ?? 0) - t0
  assert.ok(total >= 80 + 3 * 15 && total < 5000, `total ${total}`)
  assert.equal(engine.requests.length, 1)
  assert.equal(engine.requests[0]?.clientClosedEarly, false)
})

test('every format answers with its own shape and counts', async (t) => {
  const engine = await startScriptedEngine({ promptTokens: 7, firstTokenMs: 1, interTokenMs: 1 })
  t.after(() => engine.close())
  const tgi = await post(`${engine.url}/generate`, {
    inputs: 'x',
    parameters: { max_new_tokens: 3 },
  })
  assert.equal(tgi.headers.get('x-prompt-tokens'), '7')
  assert.equal(tgi.headers.get('x-generated-tokens'), '3')
  assert.equal((await json(tgi)).generated_text, ' Hello world this')
  const tgiStream = await readTimed(
    await post(`${engine.url}/generate_stream`, { inputs: 'x', parameters: { max_new_tokens: 2 } }),
  )
  assert.doesNotMatch(tgiStream.text, /\[DONE\]/)
  assert.match(tgiStream.text, /^data:\{/)
  assert.match(tgiStream.text, /"input_length":7/)
  const sg = await json(
    await post(`${engine.url}/generate`, { text: 'x', sampling_params: { max_new_tokens: 5 } }),
  )
  assert.equal(sg.meta_info.prompt_tokens, 7)
  assert.equal(sg.meta_info.completion_tokens, 5)
  const vl = await readTimed(
    await post(`${engine.url}/generate`, { prompt: 'P:', max_tokens: 2, stream: true }),
  )
  assert.deepEqual(
    vl.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).text[0]),
    ['P: Hello', 'P: Hello world'],
  )
  const ll = await readTimed(
    await post(`${engine.url}/completion`, { prompt: 'x', n_predict: 2, stream: true }),
  )
  assert.match(ll.text, /"stop":true.*"tokens_predicted":2,"tokens_evaluated":7/)
  const cmpl = await json(
    await post(`${engine.url}/v1/completions`, { model: 'm', prompt: 'x', max_tokens: 6 }),
  )
  assert.deepEqual(cmpl.usage, { prompt_tokens: 7, completion_tokens: 6, total_tokens: 13 })
  const bad = await fetch(`${engine.url}/v1/completions`, { method: 'POST', body: '{not json' })
  assert.equal(bad.status, 400)
  const models = await json(await fetch(`${engine.url}/v1/models`))
  assert.deepEqual(
    models.data.map((m: { id: string }) => m.id),
    ['qwen3-4b-instruct-2507'],
  )
})

test('failures: status with JSON body, reset mid-stream, refuse; metrics gauges settable', async (t) => {
  const engine = await startScriptedEngine({ promptTokens: 1, firstTokenMs: 1, interTokenMs: 1 })
  t.after(() => engine.close())
  engine.set({ failure: { kind: 'status', status: 503 } })
  const r = await post(`${engine.url}/v1/completions`, { prompt: 'x' })
  assert.equal(r.status, 503)
  assert.equal((await json(r)).code, 503)
  engine.set({ failure: { kind: 'reset', afterTokens: 2 } })
  const res = await post(`${engine.url}/v1/completions`, {
    prompt: 'x',
    stream: true,
    max_tokens: 5,
  })
  await assert.rejects(readTimed(res))
  engine.set({ failure: { kind: 'none' }, headerDelayMs: 60 })
  const t0 = performance.now()
  const delayed = await post(`${engine.url}/v1/completions`, { prompt: 'x', stream: true })
  assert.ok(performance.now() - t0 >= 60, 'headers held back by headerDelayMs')
  await delayed.arrayBuffer()
  engine.set({ failure: { kind: 'refuse' }, headerDelayMs: 0 })
  await assert.rejects(fetch(`${engine.url}/health`))
  engine.set({ failure: { kind: 'none' }, gauges: { kvCacheUsage: 0.93, waiting: 4 } })
  const m = await (await fetch(`${engine.url}/metrics`)).text()
  assert.match(
    m,
    /^vllm:kv_cache_usage_perc\{engine="0",model_name="qwen3-4b-instruct-2507"\} 0.93$/m,
  )
  assert.match(m, /^vllm:num_requests_waiting\{[^}]*\} 4.0$/m)
})

test('client closing early is recorded', async (t) => {
  const engine = await startScriptedEngine({ promptTokens: 1, firstTokenMs: 5, interTokenMs: 50 })
  t.after(() => engine.close())
  const ac = new AbortController()
  const res = await fetch(`${engine.url}/v1/completions`, {
    method: 'POST',
    body: JSON.stringify({ prompt: 'x', stream: true, max_tokens: 50 }),
    signal: ac.signal,
  })
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  await reader.read()
  ac.abort()
  await engine.requests[0]?.done
  assert.equal(engine.requests[0]?.clientClosedEarly, true)
})

test('prompt tokens counted with the real Qwen3 tokenizer when not overridden', async (t) => {
  const engine = await startScriptedEngine({ firstTokenMs: 1, interTokenMs: 1, outputTokens: 1 })
  t.after(() => engine.close())
  // "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n" = 9 tokens, the prompt_tokens vLLM
  // reports for a one-word "Hello" chat to Qwen3 (no default system prompt, unlike Qwen2.5).
  const chat = await json(
    await post(`${engine.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'Hello' }],
    }),
  )
  assert.equal(chat.usage.prompt_tokens, 9)
  const text = await json(await post(`${engine.url}/v1/completions`, { prompt: 'Hello, world!' }))
  assert.equal(text.usage.prompt_tokens, 4)
})
