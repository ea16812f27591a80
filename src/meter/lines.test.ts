import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { LineSplitter, SseParser } from './_lines.js'

function parseAll(chunks: Buffer[], max = 1 << 20): (string | undefined)[] {
  const out: (string | undefined)[] = []
  const p = new SseParser(max, (d) => out.push(d?.toString('utf8')))
  for (const c of chunks) p.push(c)
  return out
}

test('SSE per the HTML spec: data lines joined by LF, comments and other fields ignored, optional space', () => {
  const stream = [
    ': ping comment',
    'data: first',
    '',
    'event: message',
    'id: 7',
    'data:second-no-space',
    'data:  two spaces keeps one',
    '',
    'data',
    '',
    'dataX: not a data field',
    '',
    'data: [DONE]',
    '',
    'data: unterminated at end',
  ].join('\n')
  assert.deepEqual(parseAll([Buffer.from(stream)]), [
    'first',
    'second-no-space\n two spaces keeps one',
    '',
    '[DONE]',
  ])
})

test('CR, LF and CRLF all end lines, also when CR and LF arrive in different chunks', () => {
  assert.deepEqual(parseAll([Buffer.from('data: a\r\rdata: b\r\n\r\ndata: c\n\n')]), [
    'a',
    'b',
    'c',
  ])
  assert.deepEqual(
    parseAll([
      Buffer.from('data: a\r'),
      Buffer.alloc(0),
      Buffer.from('\n\r'),
      Buffer.from('\ndata: b\r\n\r\n'),
    ]),
    ['a', 'b'],
  )
  // CRLF split by an empty chunk is still one line end (the event keeps both data lines).
  assert.deepEqual(
    parseAll([Buffer.from('data: a\r'), Buffer.alloc(0), Buffer.from('\ndata: b\n\n')]),
    ['a\nb'],
  )
  // A leading BOM is stripped.
  assert.deepEqual(parseAll([Buffer.from('\ufeffdata: x\n\n')]), ['x'])
})

const STREAM = Buffer.from(
  'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\r\n\r\n' +
    ': keep-alive\n\n' +
    'data: {"choices":[{"delta":{"content":"你好 🚀 naïve"}}]}\n\n' +
    'data:{"token":{"text":"é"}}\r\r' +
    'data: line one\ndata: line two\n\n' +
    'data: [DONE]\n\n',
)

test('split at every byte boundary (even inside UTF-8 sequences) gives the same events', () => {
  const whole = parseAll([STREAM])
  assert.equal(whole.length, 5)
  for (let i = 0; i <= STREAM.length; i++) {
    assert.deepEqual(parseAll([STREAM.subarray(0, i), STREAM.subarray(i)]), whole, `split at ${i}`)
  }
})

test('property: any chunking of any event stream parses to the same events', () => {
  const text = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !/[\r\n]/.test(s))
  const eol = fc.constantFrom('\n', '\r', '\r\n')
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.array(text, { minLength: 1, maxLength: 3 }), eol), { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (events, cuts) => {
        const wire = Buffer.from(
          events.map(([lines, e]) => lines.map((l) => `data: ${l}${e}`).join('') + e).join(''),
        )
        const expected = events.map(([lines]) => lines.join('\n'))
        const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b)
        const chunks: Buffer[] = []
        let from = 0
        for (const p of points) {
          chunks.push(wire.subarray(from, p))
          from = p
        }
        chunks.push(wire.subarray(from))
        assert.deepEqual(parseAll(chunks), expected)
      },
    ),
    { numRuns: 300 },
  )
})

test('memory stays bounded: an over-long event or line is dropped, not kept', () => {
  assert.deepEqual(parseAll([Buffer.from(`data: ${'x'.repeat(100)}\n\ndata: ok\n\n`)], 50), [
    undefined,
    'ok',
  ])
  const lines: (string | undefined)[] = []
  const s = new LineSplitter(8, (l) => lines.push(l?.toString()))
  s.push(Buffer.from('short\n0123456789abc\nlast'))
  s.end()
  assert.deepEqual(lines, ['short', undefined, 'last'])
})
