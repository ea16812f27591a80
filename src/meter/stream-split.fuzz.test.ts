// Streamed responses (OpenAI SSE, vLLM's NDJSON, TGI, SGLang and llama.cpp events) with hostile
// token texts (multi-byte characters, lone surrogates, CR and LF) and garbage between the events,
// split at every byte boundary: the meter records exactly what it records for the unsplit stream.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  parseScriptedRequest,
  renderStreamHead,
  renderStreamTail,
  renderStreamToken,
  type ScriptedExchange,
  streamContentType,
} from '../sim/index.js'
import { fuzz, hostileString } from '../testing/fuzz.js'
import { drive, MODEL, newMeter } from '../testing/meter-drive.js'
import type { TokenCounter } from '../tokens/index.js'

/** Counts that change with the text: a split that garbled a character would show. */
const fingerprintCounter: TokenCounter = {
  countText: async (text) => {
    let n = 1
    for (const ch of text) n = (n * 31 + (ch.codePointAt(0) ?? 0)) % 9973
    return n
  },
  analyzeBody: async () => undefined,
  workerStarted: () => true,
  tokenizerLoaded: () => true,
  close: async () => {},
}

const FORMATS: { path: string; body: object }[] = [
  { path: '/v1/chat/completions', body: { model: MODEL, messages: [], stream: true } },
  {
    path: '/v1/completions',
    body: { model: MODEL, prompt: 'x', stream: true, stream_options: { include_usage: true } },
  },
  { path: '/generate', body: { prompt: 'P', stream: true } },
  { path: '/generate_stream', body: { inputs: 'x' } },
  { path: '/generate', body: { text: 'x', stream: true } },
  { path: '/completion', body: { prompt: 'x', stream: true } },
]

/** Between events: SSE comments, blank lines, broken JSON, stray bytes. */
const noise = fc.oneof(
  fc.constantFrom(': ping\n\n', '\n', '\r\n', 'data: {"broken\n\n', 'event: x\n\n', 'data:\n\n'),
  hostileString.map((s) => `data: ${s}\n\n`),
)

for (const f of FORMATS) {
  const body = Buffer.from(JSON.stringify(f.body))
  const req = parseScriptedRequest(f.path, body)
  assert.ok(req)

  test(`${req.format}: split at every byte boundary, metered as the unsplit stream`, async () => {
    const { registry, meter } = newMeter(fingerprintCounter)
    const meterOnce = async (chunks: Buffer[]) => {
      registry.resetMetrics()
      await drive(meter, {
        url: f.path,
        body,
        contentType: streamContentType(req.format),
        chunks: chunks.map((c) => [1100, c]),
        endAtMs: 1500,
      })
      return registry.metrics()
    }
    await fuzz(
      `${req.format} splits`,
      fc.asyncProperty(
        fc.array(fc.tuple(hostileString, fc.option(noise, { freq: 3 })), {
          minLength: 1,
          maxLength: 6,
        }),
        async (tokens) => {
          const x: ScriptedExchange = {
            req,
            id: 'id',
            model: MODEL,
            created: 0,
            promptTokens: 7,
            outputTokens: tokens.length,
          }
          let soFar = ''
          const parts = [renderStreamHead(x)]
          tokens.forEach(([text, extra], i) => {
            soFar += text
            parts.push(renderStreamToken(x, i, text, soFar))
            if (extra !== null) parts.push(extra)
          })
          parts.push(renderStreamTail(x))
          const wire = Buffer.from(parts.join(''))
          const whole = await meterOnce([wire])
          assert.match(whole, /gen_ai_server_request_duration_seconds_count\{[^}]*\} 1/)
          for (let k = 1; k < wire.length; k++) {
            const split = await meterOnce([wire.subarray(0, k), wire.subarray(k)])
            assert.equal(split, whole, `split at byte ${k} of ${wire.length}`)
          }
          const bytes = Array.from({ length: wire.length }, (_, i) => wire.subarray(i, i + 1))
          assert.equal(await meterOnce(bytes), whole, 'byte by byte')
        },
      ),
      3,
    )
  })
}
