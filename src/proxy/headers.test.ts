import assert from 'node:assert/strict'
import { test } from 'node:test'
import { forwardableHeaders } from './_headers.js'

// What RFC 9110 §7.6.1 asks, written the plain way: the reference the fast path must agree with.
const DROPPED = ['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding'].concat([
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
])
function reference(raw: readonly string[], host?: string): string[] {
  const named = new Set<string>()
  for (let i = 0; i < raw.length; i += 2)
    if ((raw[i] as string).toLowerCase() === 'connection')
      for (const t of (raw[i + 1] as string).split(','))
        if (t.trim()) named.add(t.trim().toLowerCase())
  const out = host === undefined ? [] : ['Host', host]
  for (let i = 0; i < raw.length; i += 2) {
    const lower = (raw[i] as string).toLowerCase()
    if (DROPPED.includes(lower) || named.has(lower) || (host !== undefined && lower === 'host'))
      continue
    out.push(raw[i] as string, raw[i + 1] as string)
  }
  return out
}

const NAMES = [
  ...DROPPED,
  'host',
  'content-type',
  'content-length',
  'authorization',
  'user-agent',
  'date',
  'x-request-id',
  'x-a',
  'trailer',
  'accept',
  'x-named-by-connection',
  // The field name RFC 9110 reserves because `Connection: close` names it.
  'close',
]
/** Connection values as engines and clients send them (the fast path's cases), any case. */
const PLAIN_CONNECTION = ['keep-alive', 'Keep-Alive', 'KEEP-ALIVE', 'close', 'Close']
// Deterministic (mulberry32) so a failure repeats.
function rng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
const pick = <T>(r: () => number, xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T
const randomCase = (r: () => number, s: string) =>
  [...s].map((c) => (r() < 0.5 ? c.toUpperCase() : c)).join('')

test('forwardableHeaders agrees with the plain reading of RFC 9110 on random header lists', () => {
  const r = rng(7)
  for (let n = 0; n < 3000; n++) {
    const raw: string[] = []
    const count = Math.floor(r() * 10)
    for (let i = 0; i < count; i++) {
      const name = randomCase(r, pick(r, NAMES))
      const value =
        name.toLowerCase() === 'connection'
          ? r() < 0.4
            ? pick(r, PLAIN_CONNECTION)
            : [pick(r, NAMES), ' keep-alive', 'close', '']
                .slice(0, 1 + Math.floor(r() * 3))
                .join(',')
          : `v${i}`
      raw.push(name, value)
    }
    const host = r() < 0.5 ? 'engine:8000' : undefined
    assert.deepEqual(forwardableHeaders(raw, host), reference(raw, host), JSON.stringify(raw))
  }
})

test('forwardableHeaders keeps names, values, order and repeats as they came', () => {
  const raw = ['X-A', '1', 'Content-Type', 'text/plain', 'x-a', '2', 'TE', 'trailers', 'HOST', 'c']
  // End-to-end headers as they came: names' case, order and the repeated X-A.
  const kept = ['X-A', '1', 'Content-Type', 'text/plain', 'x-a', '2']
  assert.deepEqual(forwardableHeaders(raw), [...kept, 'HOST', 'c'])
  // With a host, the client's Host (any case) gives way to the engine's, placed first.
  assert.deepEqual(forwardableHeaders(raw, 'up:1'), ['Host', 'up:1', ...kept])
})
