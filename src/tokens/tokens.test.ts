import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'
import { z } from 'zod'
import { REPO_ROOT } from '../testing/index.js'
import {
  analyzePromptBody,
  createTokenCounter,
  loadQwen3Tokenizer,
  parseChatMessages,
  renderChatPrompt,
} from './index.js'

// Counts from Hugging Face tokenizers/transformers (what vLLM uses to count prompt tokens) on the
// same tokenizer.json and chat template: src/tokens/testdata/hf-reference.json ("about" says how).
const Reference = z.object({
  texts: z.array(
    z.object({
      name: z.string(),
      count: z.number(),
      utf8Bytes: z.number(),
      idsHead: z.array(z.number()),
      text: z.string().optional(),
      generate: z.object({ repeat: z.string(), times: z.number(), prefix: z.string() }).optional(),
    }),
  ),
  chats: z.array(
    z.object({
      name: z.string(),
      messages: z.array(z.object({ role: z.string(), content: z.string() })),
      rendered: z.string(),
      count: z.number(),
    }),
  ),
})
const reference = Reference.parse(
  JSON.parse(readFileSync(`${REPO_ROOT}/src/tokens/testdata/hf-reference.json`, 'utf8')),
)
const textOf = (t: (typeof reference.texts)[number]) =>
  t.text ?? `${t.generate?.prefix}${t.generate?.repeat.repeat(t.generate.times)}`

test('plain-text counts equal Hugging Face (the engine) for every reference text', async () => {
  const tok = await loadQwen3Tokenizer()
  for (const t of reference.texts) {
    const text = textOf(t)
    assert.equal(Buffer.byteLength(text), t.utf8Bytes, `${t.name}: reference text rebuilt`)
    const ids = tok.encode(text)
    assert.equal(ids.length, t.count, t.name)
    assert.deepEqual(ids.slice(0, t.idsHead.length), t.idsHead, t.name)
    // The short-cut's premise: a byte-level BPE token is at least one byte.
    assert.ok(t.count <= t.utf8Bytes, t.name)
  }
})

test('chat prompts render exactly as the Qwen3 chat template and count as HF does', async () => {
  const tok = await loadQwen3Tokenizer()
  for (const c of reference.chats) {
    const messages = parseChatMessages(c.messages)
    assert.ok(messages)
    const rendered = renderChatPrompt(messages)
    assert.equal(rendered, c.rendered, c.name)
    assert.equal(tok.countTokens(rendered), c.count, c.name)
  }
  // Content parts are flattened to their text, joined with "\n" (as vLLM does before templating).
  const parts = parseChatMessages([
    {
      role: 'user',
      content: [
        { type: 'text', text: 'a' },
        { type: 'text', text: 'b' },
      ],
    },
  ])
  assert.equal(
    renderChatPrompt(parts ?? []),
    '<|im_start|>user\na\nb<|im_end|>\n<|im_start|>assistant\n',
  )
  const tools = renderChatPrompt(
    [{ role: 'user', content: 'x' }],
    [{ type: 'function', function: { name: 'f' } }],
  )
  assert.match(
    tools,
    /^<\|im_start\|>system\n# Tools\n[\s\S]*<tools>\n\{"type": "function", "function": \{"name": "f"\}\}\n<\/tools>/,
  )
})

test('request bodies: dialect from path and body shape, model, stream, include_usage', () => {
  const chat = analyzePromptBody(
    '/v1/chat/completions',
    {
      model: 'm',
      messages: [{ role: 'user', content: 'Hello!' }],
      stream: true,
      stream_options: { include_usage: true },
    },
    'vllm',
  )
  assert.deepEqual(chat, {
    dialect: 'openai-chat',
    model: 'm',
    stream: true,
    includeUsage: true,
    promptText: '<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n',
    promptIdCount: undefined,
  })
  assert.equal(analyzePromptBody('/generate', { inputs: 'x' }, 'vllm')?.dialect, 'tgi-generate')
  assert.equal(analyzePromptBody('/generate', { text: 'x' }, 'vllm')?.dialect, 'sglang-generate')
  assert.equal(analyzePromptBody('/generate', { prompt: 'x' }, 'tgi')?.dialect, 'vllm-generate')
  assert.equal(analyzePromptBody('/generate', {}, 'sglang')?.dialect, 'sglang-generate')
  assert.equal(analyzePromptBody('/generate_stream', { inputs: 'x' }, 'vllm')?.stream, true)
  assert.equal(
    analyzePromptBody('/v1/completions', { prompt: [1, 2, 3] }, 'vllm')?.promptIdCount,
    3,
  )
  assert.equal(analyzePromptBody('/v1/models', {}, 'vllm'), undefined)
  assert.equal(analyzePromptBody('/v1/completions', [1], 'vllm'), undefined)
})

test('the worker counts what the tokenizer counts; short bodies never load it', async (t) => {
  const counter = createTokenCounter()
  t.after(() => counter.close())
  const short = new TextEncoder().encode(JSON.stringify({ prompt: 'hello there' }))
  const a = await counter.analyzeBody('/v1/completions', short, 'vllm', 32768)
  assert.equal(a?.short, true)
  assert.equal(a?.promptTokens, undefined)
  assert.equal(counter.workerStarted(), true)
  assert.equal(counter.tokenizerLoaded(), false)
  const tok = await loadQwen3Tokenizer()
  for (const ref of reference.texts.slice(0, 4)) {
    assert.equal(await counter.countText(textOf(ref)), tok.countTokens(textOf(ref)))
  }
  assert.equal(counter.tokenizerLoaded(), true)
  // Long texts are counted in slices (src/tokens/_slices.ts): still HF's count, twice (cached).
  const seedLong = reference.texts.find((x) => x.name === 'seed_long')
  assert.ok(seedLong)
  assert.equal(await counter.countText(textOf(seedLong)), seedLong.count)
  assert.equal(await counter.countText(textOf(seedLong)), seedLong.count)
  const long = reference.texts.find((x) => x.name === 'repeat_zh')
  assert.ok(long)
  const body = new TextEncoder().encode(JSON.stringify({ model: 'q', inputs: textOf(long) }))
  const b = await counter.analyzeBody('/generate', body, 'vllm', 100)
  assert.deepEqual(b, {
    dialect: 'tgi-generate',
    model: 'q',
    stream: false,
    includeUsage: false,
    promptIdCount: undefined,
    promptChars: textOf(long).length,
    promptTokens: long.count,
    short: false,
  })
})

test('a backlog is not a hang: jobs queued behind slow ones are answered, past the timeout', async (t) => {
  // Answers one job every 150 ms, in order (as the real worker runs its counts one by one). The
  // timeout leaves 350 ms for the worker to start: a loaded test machine has taken over 140 ms.
  const slow = createTokenCounter({
    timeoutMs: 500,
    spawn: () =>
      new Worker(
        `const { parentPort } = require('worker_threads')
        const queue = []
        let busy = false
        const next = () => {
          const msg = queue.shift()
          if (!msg) { busy = false; return }
          busy = true
          setTimeout(() => {
            parentPort.postMessage({ id: msg.id, tokens: msg.text.length, tokenizerLoaded: true })
            next()
          }, 150)
        }
        parentPort.on('message', (msg) => { queue.push(msg); if (!busy) next() })`,
        { eval: true },
      ),
  })
  t.after(() => slow.close())
  const texts = ['a', 'bb', 'ccc', 'dddd', 'eeeee', 'ffffff', 'ggggggg', 'hhhhhhhh']
  const t0 = performance.now()
  const counts = await Promise.all(texts.map((x) => slow.countText(x)))
  assert.deepEqual(
    counts,
    texts.map((x) => x.length),
  )
  // Eight jobs of 150 ms: well past the 500 ms timeout in all.
  assert.ok(performance.now() - t0 >= 1000)
})

test('a crashing or stuck worker degrades to undefined, never hangs', async (t) => {
  const crashing = createTokenCounter({
    spawn: () => new Worker('process.exit(3)', { eval: true }),
  })
  t.after(() => crashing.close())
  assert.equal(await crashing.countText('hello'), undefined)
  const stuck = createTokenCounter({
    timeoutMs: 150,
    spawn: () =>
      new Worker('require("worker_threads").parentPort.on("message", () => {})', { eval: true }),
  })
  t.after(() => stuck.close())
  const t0 = performance.now()
  assert.equal(await stuck.countText('hello'), undefined)
  const waited = performance.now() - t0
  assert.ok(waited >= 140 && waited < 5000, `waited ${waited}`)
  // After three failures within a minute it stops spawning and answers at once.
  await stuck.countText('a')
  await stuck.countText('b')
  const t1 = performance.now()
  assert.equal(await stuck.countText('c'), undefined)
  assert.ok(performance.now() - t1 < 50)
})
