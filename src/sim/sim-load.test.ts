import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parsePrometheusText } from '../engines/index.js'
import { type EngineSimulator, type EngineSimulatorOptions, startSimulator } from './index.js'

// Under load the simulated engine does what the capacity model says the real one would: requests
// are admitted while their KV blocks fit, wait when the cache is full, and are preempted (newest
// first) when running sequences outgrow it; the batch never exceeds --max-num-seqs; a prompt over
// max_model_len gets the engine's own error body. A 4090 D at gpu_memory_utilization 0.5 keeps
// about 22K tokens of KV for Qwen3-4B, small enough to fill quickly.

const BASE: EngineSimulatorOptions = {
  engine: 'vllm',
  model: 'qwen3-4b-instruct-2507',
  gpu: 'rtx-4090d',
  gpuMemoryUtilization: 0.5,
  speed: 100,
  host: '127.0.0.1',
  port: 0,
}

const ids = (n: number, salt: number) =>
  Array.from({ length: n }, (_, i) => 100 + ((i * 7 + salt) % 9000))

async function complete(sim: EngineSimulator, prompt: number, maxTokens: number, salt: number) {
  const res = await fetch(`${sim.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: sim.model, prompt: ids(prompt, salt), max_tokens: maxTokens }),
  })
  const body = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }
  assert.equal(res.status, 200)
  return body.usage
}

async function metrics(sim: EngineSimulator) {
  const x = parsePrometheusText(await (await fetch(`${sim.url}/metrics`)).text())
  return (name: string) => x.samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0)
}

/** Samples sim.state() every few ms until `done` settles. */
function watch(sim: EngineSimulator, done: Promise<unknown>) {
  const seen = { maxWaiting: 0, maxRunning: 0, maxKv: 0 }
  let stop = false
  void done.finally(() => {
    stop = true
  })
  const loop = (async () => {
    while (!stop) {
      const s = sim.state()
      seen.maxWaiting = Math.max(seen.maxWaiting, s.waiting)
      seen.maxRunning = Math.max(seen.maxRunning, s.running)
      seen.maxKv = Math.max(seen.maxKv, s.kvCacheUsage)
      await new Promise((r) => setTimeout(r, 2))
    }
  })()
  return { seen, loop }
}

test('KV fills: growing sequences are preempted and wait, usage stays <= 1, every request completes', async (t) => {
  // Slower time, so all sixteen arrive within a few simulated steps even when a loaded machine
  // spreads their sending over a tenth of a second.
  const sim = await startSimulator({ ...BASE, speed: 20 })
  t.after(() => sim.close())
  assert.ok(sim.kvTokenBudget > 15_000 && sim.kvTokenBudget < 30_000, `${sim.kvTokenBudget}`)
  // 16 x (1000 + 1000) tokens at the end: half again what the cache holds.
  const n = 16
  const all = Promise.all(Array.from({ length: n }, (_, i) => complete(sim, 1000, 1000, i)))
  const { seen, loop } = watch(sim, all)
  const usage = await all
  await loop
  for (const u of usage) assert.deepEqual([u.prompt_tokens, u.completion_tokens], [1000, 1000])
  const m = await metrics(sim)
  assert.ok(m('vllm:num_preemptions_total') > 0, 'no preemption')
  assert.ok(seen.maxWaiting > 0, 'nothing waited')
  assert.ok(seen.maxKv > 0.9 && seen.maxKv <= 1, `KV peaked at ${seen.maxKv}`)
  assert.equal(m('vllm:request_success_total'), n)
  assert.equal(m('vllm:generation_tokens_total'), n * 1000)
  // Idle again: nothing held, nothing queued.
  assert.deepEqual(
    [m('vllm:num_requests_running'), m('vllm:num_requests_waiting'), m('vllm:kv_cache_usage_perc')],
    [0, 0, 0],
  )
  assert.equal(sim.state().preemptionsTotal, m('vllm:num_preemptions_total'))
})

test('a full cache queues new prompts: they wait, and their queue time shows in the histogram', async (t) => {
  // Slower time: all eight arrive while the first prefills run.
  const sim = await startSimulator({ ...BASE, speed: 5 })
  t.after(() => sim.close())
  // Each 6000-token prompt takes over a quarter of the cache: three run (a fourth may start a
  // partial chunk, as chunked prefill allows), the rest wait.
  const all = Promise.all(Array.from({ length: 8 }, (_, i) => complete(sim, 6000, 50, i)))
  const { seen, loop } = watch(sim, all)
  await all
  await loop
  assert.ok(seen.maxRunning <= 4, `running peaked at ${seen.maxRunning}`)
  assert.ok(seen.maxWaiting >= 4, `waiting peaked at ${seen.maxWaiting}`)
  const m = await metrics(sim)
  assert.ok(
    m('vllm:request_queue_time_seconds_sum') > 0.5,
    `${m('vllm:request_queue_time_seconds_sum')}`,
  )
  assert.equal(m('vllm:request_queue_time_seconds_count'), 8)
})

test('--max-num-seqs caps the batch; the rest wait', async (t) => {
  const sim = await startSimulator({ ...BASE, speed: 5, maxNumSeqs: 3 })
  t.after(() => sim.close())
  const all = Promise.all(Array.from({ length: 10 }, (_, i) => complete(sim, 20, 200, i)))
  const { seen, loop } = watch(sim, all)
  await all
  await loop
  assert.equal(seen.maxRunning, 3)
  assert.ok(seen.maxWaiting >= 5, `waiting peaked at ${seen.maxWaiting}`)
})

const over = async (sim: EngineSimulator, path: string, body: unknown) => {
  const res = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: await res.json() }
}

test("a prompt over max_model_len gets each engine's own error body", async (t) => {
  // vLLM 0.12 on an H200 serves the model's whole 262144 tokens: the body quoted in vLLM issues.
  const vllm = await startSimulator({ ...BASE, gpu: 'h200', gpuMemoryUtilization: 0.9 })
  t.after(() => vllm.close())
  assert.equal(vllm.maxModelLen, 262144)
  assert.deepEqual(
    await over(vllm, '/v1/completions', { model: vllm.model, prompt: ids(262145, 0) }),
    {
      status: 400,
      body: {
        error: {
          message:
            "This model's maximum context length is 262144 tokens. However, you requested 0 output tokens and your prompt contains at least 262145 input tokens, for a total of at least 262145 tokens. Please reduce the length of the input prompt or the number of requested output tokens. (parameter=input_tokens, value=262145)",
          type: 'BadRequestError',
          param: 'input_tokens',
          code: 400,
        },
      },
    },
  )
  const small = { ...BASE, maxModelLen: 512 }
  // Older releases: the flat body; counted by the Qwen3 tokenizer (" hello" is one token).
  const old = await startSimulator({ ...small, engineVersion: '0.10' })
  t.after(() => old.close())
  const words = ' hello'.repeat(600)
  assert.deepEqual(
    await over(old, '/v1/completions', { model: old.model, prompt: words, max_tokens: 10 }),
    {
      status: 400,
      body: {
        object: 'error',
        message:
          "This model's maximum context length is 512 tokens. However, you requested 610 tokens (600 in the messages, 10 in the completion). Please reduce the length of the messages or completion.",
        type: 'BadRequestError',
        param: null,
        code: 400,
      },
    },
  )
  const tgi = await startSimulator({ ...small, engine: 'tgi' })
  t.after(() => tgi.close())
  assert.deepEqual(await over(tgi, '/generate', { inputs: words }), {
    status: 422,
    body: {
      error: 'Input validation error: `inputs` must have less than 511 tokens. Given: 600',
      error_type: 'validation',
    },
  })
  const llama = await startSimulator({ ...small, engine: 'llamacpp' })
  t.after(() => llama.close())
  assert.deepEqual(await over(llama, '/completion', { prompt: words }), {
    status: 400,
    body: {
      error: {
        code: 400,
        message:
          'request (600 tokens) exceeds the available context size (512 tokens), try increasing it',
        type: 'exceed_context_size_error',
        n_prompt_tokens: 600,
        n_ctx: 512,
      },
    },
  })
  const sgl = await startSimulator({ ...small, engine: 'sglang' })
  t.after(() => sgl.close())
  assert.deepEqual(await over(sgl, '/generate', { text: words }), {
    status: 400,
    body: {
      error: {
        message: "The input (600 tokens) is longer than the model's context length (512 tokens).",
      },
    },
  })
  // Refused before the engine: no request reached the scheduler.
  const m = await metrics(old)
  assert.equal(m('vllm:request_success_total'), 0)
  assert.equal(m('http_requests_total'), 1)
})
