// The proxy and meter in front of the REAL llama.cpp server (llama-server b4748, a tiny model with
// the real Qwen tokenizer): on every route it generates or embeds on, streamed and not, the
// metered token counts are llama.cpp's own (its response and its /metrics counters), the bytes
// pass unchanged, and a client that goes away mid-stream stops the generation.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Registry } from 'prom-client'
import { parseHttpUrl } from '../config/index.js'
import { type ProxyHandle, startProxy } from '../proxy/index.js'
import {
  LLAMACPP_SKIP,
  type LlamaServer,
  llamaServerFiles,
  startLlamaServer,
} from '../testing/llamacpp.js'
import { readHistogram, until } from '../testing/registry-values.js'
import { createTokenCounter, type TokenCounter } from '../tokens/index.js'
import { createMeter, type Meter, type MeterHandle } from './index.js'

const MODEL = 'tiny-qwen2'
const skip = llamaServerFiles() ? false : LLAMACPP_SKIP

/** What the meter was shown of each exchange: the bytes the proxy read from each side. */
interface Tapped {
  url: string
  request: Buffer[]
  response: Buffer[]
  errorType: string | undefined
}

/** The real meter, behind a tap that keeps a copy of every byte the proxy hands it. */
function tapped(inner: MeterHandle): { meter: Meter; seen: Tapped[] } {
  const seen: Tapped[] = []
  const meter: Meter = {
    observe(start) {
      const o = inner.observe(start)
      if (!o) return undefined
      const t: Tapped = { url: start.url, request: [], response: [], errorType: undefined }
      seen.push(t)
      return {
        requestChunk(c) {
          t.request.push(Buffer.from(c))
          o.requestChunk(c)
        },
        requestEnd: () => o.requestEnd(),
        responseHead: (s, h, at) => o.responseHead(s, h, at),
        responseChunk(c, at) {
          t.response.push(Buffer.from(c))
          o.responseChunk(c, at)
        },
        end(outcome) {
          t.errorType = outcome.errorType
          o.end(outcome)
        },
      }
    },
    setServedModels: (m, p) => inner.setServedModels(m, p),
    close: () => inner.close(),
  }
  return { meter, seen }
}

interface Front {
  engine: LlamaServer
  proxy: ProxyHandle
  meter: MeterHandle
  registry: Registry
  seen: Tapped[]
}

async function front(counter: TokenCounter, args: string[], slots?: number): Promise<Front> {
  const engine = await startLlamaServer({ args, ...(slots ? { slots } : {}) })
  const registry = new Registry()
  const meter = createMeter({
    registry,
    contextClasses: { mediumFromTokens: 32768, longFromTokens: 100000 },
    tokenCounter: counter,
  })
  meter.setServedModels([MODEL], 'llamacpp')
  const tap = tapped(meter)
  const proxy = await startProxy({
    upstream: parseHttpUrl(engine.url, 'upstream'),
    meter: tap.meter,
  })
  return { engine, proxy, meter, registry, seen: tap.seen }
}

async function counters(
  engineUrl: string,
): Promise<{ prompt: number; predicted: number; decodes: number }> {
  const text = await (await fetch(`${engineUrl}/metrics`)).text()
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
  return {
    prompt: value('llamacpp:prompt_tokens_total'),
    predicted: value('llamacpp:tokens_predicted_total'),
    // One llama_decode() per generated token of a busy slot (and per prompt batch).
    decodes: value('llamacpp:n_decode_total'),
  }
}

/** llama.cpp's own counts in a response: usage (OpenAI routes), else tokens_evaluated/_predicted;
 * in a stream, from its last event that has them. */
function engineCounts(body: string, streamed: boolean): { prompt: number; output: number } {
  const objects = streamed
    ? body
        .split('\n')
        .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
        .map((l) => JSON.parse(l.slice(6)))
    : [JSON.parse(body)]
  const last = objects.filter((o) => o.usage || o.stop === true).at(-1)
  assert.ok(last, `no final counts in ${body.slice(-400)}`)
  return {
    prompt: last.usage?.prompt_tokens ?? last.tokens_evaluated,
    output: last.usage?.completion_tokens ?? last.tokens_predicted,
  }
}

const ROUTES: { path: string; body: object; operation: string; model: string }[] = [
  {
    path: '/completion',
    body: { prompt: 'The capital of France is' },
    operation: 'generate',
    model: 'unknown',
  },
  {
    path: '/completions',
    body: { prompt: 'Once upon a time' },
    operation: 'generate',
    model: 'unknown',
  },
  {
    path: '/v1/completions',
    body: { model: MODEL, prompt: 'Hello, my dog is cute' },
    operation: 'text_completion',
    model: MODEL,
  },
  {
    path: '/chat/completions',
    body: { model: MODEL, messages: [{ role: 'user', content: 'Say hi.' }] },
    operation: 'chat',
    model: MODEL,
  },
  {
    path: '/v1/chat/completions',
    body: {
      model: MODEL,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is 2+2?' },
      ],
    },
    operation: 'chat',
    model: MODEL,
  },
  {
    path: '/infill',
    body: {
      input_prefix: 'def add(a, b):\n    ',
      input_suffix: '\n\nprint(add(1, 2))\n',
      input_extra: [{ filename: 'util.py', text: 'def sub(a, b):\n    return a - b\n' }],
    },
    operation: 'generate',
    model: 'unknown',
  },
]

describe('the proxy in front of the real llama.cpp', { skip }, () => {
  let counter: TokenCounter
  let gen: Front
  let emb: Front
  before(async () => {
    counter = createTokenCounter()
    // Embeddings need --embeddings, which turns generation off: a second server.
    ;[gen, emb] = await Promise.all([
      front(counter, ['--slots']),
      front(counter, ['--embeddings', '--pooling', 'mean'], 1),
    ])
    await counter.countText('x')
  })
  after(async () => {
    for (const f of [gen, emb]) {
      await f?.proxy.close()
      await f?.meter.close()
      await f?.engine.close()
    }
    await counter?.close()
  })

  for (const route of ROUTES)
    for (const stream of [false, true])
      test(`${route.path}${stream ? ', streamed' : ''}: llama.cpp's token counts, bytes unchanged`, async (t) => {
        gen.registry.resetMetrics()
        gen.seen.length = 0
        // No prompt cache: llamacpp:prompt_tokens_total counts only the prompt tokens it evaluates.
        const body = JSON.stringify({
          ...route.body,
          stream,
          temperature: 0,
          n_predict: 8,
          max_tokens: 8,
          cache_prompt: false,
        })
        const before = await counters(gen.engine.url)
        const res = await fetch(`${gen.proxy.url}${route.path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        })
        assert.equal(res.status, 200)
        assert.match(res.headers.get('content-type') ?? '', stream ? /event-stream/ : /json/)
        const received = Buffer.from(await res.arrayBuffer())
        await gen.meter.settled()
        const own = engineCounts(received.toString('utf8'), stream)
        assert.ok(own.prompt > 0 && own.output === 8, JSON.stringify(own))
        const labels = {
          gen_ai_operation_name: route.operation,
          gen_ai_request_model: route.model,
          gen_ai_provider_name: 'llamacpp',
          context_class: 'short',
        }
        const input = await readHistogram(gen.registry, 'gen_ai_client_token_usage', {
          ...labels,
          gen_ai_token_type: 'input',
        })
        const output = await readHistogram(gen.registry, 'gen_ai_client_token_usage', {
          ...labels,
          gen_ai_token_type: 'output',
        })
        assert.deepEqual(
          { requests: input.count, prompt: input.sum, output: output.sum },
          { requests: 1, prompt: own.prompt, output: own.output },
        )
        // llama.cpp's /metrics counters moved by the same amounts (updated just after the reply).
        let now = before
        await until(async () => {
          now = await counters(gen.engine.url)
          return now.predicted - before.predicted >= own.output
        }, 5000).catch(() => {})
        assert.deepEqual(
          { prompt: now.prompt - before.prompt, predicted: now.predicted - before.predicted },
          { prompt: input.sum, predicted: output.sum },
        )
        t.diagnostic(
          `prompt ${input.sum}, output ${output.sum} tokens: response and /metrics agree`,
        )
        const ttft = await readHistogram(gen.registry, 'gen_ai_server_time_to_first_token_seconds')
        assert.equal(ttft.count, stream ? 1 : 0)
        // The bytes: what the client sent reached the engine side as is, and what the engine
        // answered reached the client as is.
        assert.equal(gen.seen.length, 1)
        const tap = gen.seen[0] as Tapped
        assert.equal(Buffer.concat(tap.request).toString('utf8'), body)
        assert.ok(Buffer.concat(tap.response).equals(received), 'response bytes changed')
        if (!stream) {
          // Greedy decoding: the same request straight to the engine generates the same text.
          const directRes = await fetch(`${gen.engine.url}${route.path}`, { method: 'POST', body })
          const direct = (await directRes.json()) as Record<string, unknown>
          const text = (o: Record<string, unknown>) =>
            JSON.stringify((o.choices as unknown[] | undefined) ?? o.content)
          assert.equal(text(JSON.parse(received.toString('utf8'))), text(direct))
        }
      })

  test('/v1/embeddings: input tokens only, equal to usage, to /tokenize and to our tokenizer', async (t) => {
    for (const input of ['Hello, my dog is cute', ['hello world foo', '你好，世界', 'aaaa aaaa']]) {
      emb.registry.resetMetrics()
      emb.seen.length = 0
      const body = JSON.stringify({ model: MODEL, input })
      const res = await fetch(`${emb.proxy.url}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
      assert.equal(res.status, 200)
      const received = Buffer.from(await res.arrayBuffer())
      await emb.meter.settled()
      const reply = JSON.parse(received.toString('utf8'))
      const texts = Array.isArray(input) ? input : [input]
      assert.equal(reply.data.length, texts.length)
      let tokenized = 0
      let ours = 0
      for (const content of texts) {
        const tok = await fetch(`${emb.engine.url}/tokenize`, {
          method: 'POST',
          body: JSON.stringify({ content }),
        })
        tokenized += ((await tok.json()) as { tokens: number[] }).tokens.length
        ours += (await counter.countText(content)) ?? Number.NaN
      }
      const metered = await readHistogram(emb.registry, 'gen_ai_client_token_usage', {
        gen_ai_operation_name: 'embeddings',
        gen_ai_request_model: MODEL,
        gen_ai_provider_name: 'llamacpp',
        gen_ai_token_type: 'input',
      })
      assert.deepEqual(
        [metered.count, metered.sum, tokenized, ours],
        [1, reply.usage.prompt_tokens, reply.usage.prompt_tokens, reply.usage.prompt_tokens],
      )
      t.diagnostic(`${texts.length} input(s): ${metered.sum} tokens`)
      const outputs = await readHistogram(emb.registry, 'gen_ai_client_token_usage', {
        gen_ai_token_type: 'output',
      })
      assert.equal(outputs.count, 0)
      assert.equal(
        (await readHistogram(emb.registry, 'gen_ai_server_time_to_first_token_seconds')).count,
        0,
      )
      assert.ok(Buffer.concat(emb.seen[0]?.response ?? []).equals(received))
    }
  })

  test('a client that goes away mid-stream: the slot is freed and generation stops', async (t) => {
    gen.registry.resetMetrics()
    gen.seen.length = 0
    const before = await counters(gen.engine.url)
    const ac = new AbortController()
    const res = await fetch(`${gen.proxy.url}/completion`, {
      method: 'POST',
      body: JSON.stringify({
        prompt: 'Tell a long story',
        n_predict: 4000,
        temperature: 0,
        stream: true,
      }),
      signal: ac.signal,
    })
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    let events = 0
    while (events < 5) {
      const { value } = await reader.read()
      events += (
        Buffer.from(value ?? [])
          .toString('utf8')
          .match(/^data: /gm) ?? []
      ).length
    }
    const busy = async () => {
      const slots = (await (await fetch(`${gen.engine.url}/slots`)).json()) as {
        is_processing: boolean
      }[]
      return slots.some((s) => s.is_processing)
    }
    // Generating while the client reads: a busy slot, llama_decode() calls going up.
    assert.equal(await busy(), true)
    const reading = await counters(gen.engine.url)
    await new Promise((r) => setTimeout(r, 100))
    assert.ok((await counters(gen.engine.url)).decodes > reading.decodes, 'not generating')
    ac.abort()
    await until(async () => !(await busy()), 5000)
    await gen.meter.settled()
    const freed = await counters(gen.engine.url)
    await new Promise((r) => setTimeout(r, 300))
    const later = await counters(gen.engine.url)
    assert.equal(later.decodes, freed.decodes, 'still decoding after the slot was freed')
    // Cancelled long before 4000 tokens (the tiny model makes 200-400 tokens/s). This build
    // leaves a cancelled request out of tokens_predicted_total; n_decode_total counts its steps.
    const steps = freed.decodes - before.decodes
    t.diagnostic(`${steps} decode steps before the cancel`)
    assert.ok(steps < 2000, `${steps} decode steps`)
    assert.equal(gen.seen[0]?.errorType, 'client_abort')
    const aborted = await readHistogram(gen.registry, 'gen_ai_server_request_duration_seconds', {
      gen_ai_operation_name: 'generate',
      error_type: 'client_abort',
    })
    assert.equal(aborted.count, 1)
  })
})
