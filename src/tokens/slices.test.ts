import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createSliceCounter, SLICE_CHARS } from './_slices.js'
import { loadQwen3Tokenizer } from './index.js'

// Pieces that stress the pre-tokenizer at and around cut points: contractions, digits, CJK without
// spaces, astral letters, emoji, combining marks, code, runs of spaces and newlines, special tokens.
const PIECES = [
  'The quick brown fox jumps over the lazy dog',
  " it's we'll they'd I'M",
  ' 12345 67.89 3e10',
  ' 日本語のテキストは空白なしで続く',
  ' 𝐀𝐁𝐂 𝑥𝑦𝑧 𐐀𐐁',
  ' 🙂🙃 emoji 👍🏽',
  ' cafe\u0301 nai\u0308ve e\u0301',
  '\nfunction f(a, b) {\n  return a + b;\n}\n',
  '    indented\t\ttabs   and   spaces ',
  '\r\n\r\n',
  '<|im_start|>user\nHi<|im_end|>\n<|endoftext|>',
  ' Ünïcödé wörds ÅÄÖ ß',
  ' a b c d e f g',
  '!!! ??? ... ---',
]

test('a long text counted in slices gives exactly the whole-text count, for every mix', async () => {
  const tok = await loadQwen3Tokenizer()
  let seed = 11
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  for (let round = 0; round < 6; round++) {
    const sliced = createSliceCounter((t) => tok.countTokens(t))
    let text = ''
    // Over 2 slices: some cut points land right after each kind of piece.
    while (text.length < 5 * SLICE_CHARS + rand(SLICE_CHARS)) text += PIECES[rand(PIECES.length)]
    assert.equal(sliced.count(text), tok.countTokens(text), `round ${round}`)
    assert.ok(sliced.stats.counted >= 3, `sliced into ${sliced.stats.counted}`)
  }
})

test('equal slices within one prompt are tokenized once', async () => {
  const tok = await loadQwen3Tokenizer()
  const sliced = createSliceCounter((t) => tok.countTokens(t))
  const text = ' hello world'.repeat(Math.ceil((6 * SLICE_CHARS) / 12))
  assert.equal(sliced.count(text), tok.countTokens(text))
  assert.ok(sliced.stats.cached >= 2, `cached ${sliced.stats.cached}`)
})

test('a prompt sent again is counted from the cache; a changed ending costs only its slice', async () => {
  const tok = await loadQwen3Tokenizer()
  let whole = 0
  const sliced = createSliceCounter((t) => {
    whole++
    return tok.countTokens(t)
  })
  // Distinct words (a periodic text has equal slices, found in the cache within one prompt).
  const word = (i: number): string =>
    i < 26 ? String.fromCharCode(97 + i) : word(Math.floor(i / 26) - 1) + word(i % 26)
  let doc = ''
  for (let i = 0; doc.length < 6 * SLICE_CHARS; i++) doc += ` ${word(i)}`
  const first = sliced.count(`${doc} What is it about?`)
  assert.equal(first, tok.countTokens(`${doc} What is it about?`))
  const calls = whole
  assert.ok(calls >= 4)
  assert.equal(sliced.count(`${doc} What is it about?`), first)
  assert.equal(whole, calls, 'no tokenization for a repeat')
  const other = `${doc} Summarize it in one line.`
  assert.equal(sliced.count(other), tok.countTokens(other))
  assert.equal(whole, calls + 1, 'only the last slice differs')
  // Short texts are counted whole, never cached.
  assert.equal(sliced.count('Hi there'), tok.countTokens('Hi there'))
})
