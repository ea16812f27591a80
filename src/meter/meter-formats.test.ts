// Every streamed format, cut into random chunks (fast-check), meters the same: TTFT is the arrival
// of the chunk that completes the first content event, token counts are exact.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  parseScriptedRequest,
  renderStreamHead,
  renderStreamTail,
  renderStreamToken,
  type ScriptedExchange,
  scriptedTokenText,
  streamContentType,
} from '../sim/index.js'
import { drive, MODEL, newMeter } from '../testing/meter-drive.js'
import { readHistogram } from '../testing/registry-values.js'
import type { TokenCounter } from '../tokens/index.js'

const COUNTED = 42 // what the stub tokenizer says, for prompts no engine reports (vLLM demo)
const stub: TokenCounter = {
  countText: async () => COUNTED,
  analyzeBody: async () => undefined,
  workerStarted: () => true,
  tokenizerLoaded: () => true,
  close: async () => {},
}

const FORMATS: { path: string; body: object; input: number }[] = [
  {
    path: '/v1/chat/completions',
    body: {
      model: MODEL,
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    },
    input: 7,
  },
  {
    path: '/v1/completions',
    body: { model: MODEL, prompt: 'x', stream: true, stream_options: { include_usage: true } },
    input: 7,
  },
  { path: '/generate', body: { prompt: 'P', stream: true }, input: COUNTED },
  { path: '/generate_stream', body: { inputs: 'x' }, input: 7 },
  { path: '/generate', body: { text: 'x', stream: true }, input: 7 },
  { path: '/completion', body: { prompt: 'x', stream: true }, input: 7 },
]
const N = 5

for (const f of FORMATS) {
  const body = Buffer.from(JSON.stringify(f.body))
  const req = parseScriptedRequest(f.path, body)
  assert.ok(req)
  const x: ScriptedExchange = {
    req,
    id: 'id',
    model: MODEL,
    created: 0,
    promptTokens: 7,
    outputTokens: N,
  }
  const head = Buffer.from(renderStreamHead(x))
  let text = ''
  const tokens = Array.from({ length: N }, (_, i) => {
    text += scriptedTokenText(i)
    return Buffer.from(renderStreamToken(x, i, scriptedTokenText(i), text))
  })
  const wire = Buffer.concat([head, ...tokens, Buffer.from(renderStreamTail(x))])
  const firstContentEnd = head.length + (tokens[0] as Buffer).length

  test(`${req.format}: any chunking meters the same`, async () => {
    const { registry, meter } = newMeter(stub)
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: wire.length - 1 }), { maxLength: 12 }),
        async (cuts) => {
          registry.resetMetrics()
          const points = [0, ...cuts.sort((a, b) => a - b), wire.length]
          const chunks: [number, Buffer][] = []
          let expectedTtftMs = Number.NaN
          for (let i = 0; i + 1 < points.length; i++) {
            const [from, to] = [points[i] as number, points[i + 1] as number]
            chunks.push([1010 + 10 * i, wire.subarray(from, to)])
            if (Number.isNaN(expectedTtftMs) && to >= firstContentEnd) expectedTtftMs = 10 + 10 * i
          }
          await drive(meter, {
            url: f.path,
            body,
            contentType: streamContentType(req.format),
            chunks,
            endAtMs: 2000,
          })
          const ttft = await readHistogram(registry, 'gen_ai_server_time_to_first_token_seconds')
          assert.deepEqual([ttft.count, Math.round(ttft.sum * 1000)], [1, expectedTtftMs])
          const input = await readHistogram(registry, 'gen_ai_client_token_usage', {
            gen_ai_token_type: 'input',
          })
          const output = await readHistogram(registry, 'gen_ai_client_token_usage', {
            gen_ai_token_type: 'output',
          })
          assert.deepEqual([input.sum, output.sum], [f.input, N])
        },
      ),
      { numRuns: 60 },
    )
  })
}
