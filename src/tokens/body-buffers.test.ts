import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BodyBuffers, createTokenCounter } from './counter.js'

const MB = 1024 * 1024

test('body buffers: exact-size views, reused smallest-first, bounded, transferable only when ours', () => {
  const pool = new BodyBuffers()
  const a = pool.take(MB + 17)
  assert.equal(a.length, MB + 17)
  assert.equal(a.byteOffset, 0)
  assert.equal(a.buffer.byteLength % (256 * 1024), 0)
  assert.ok(a.buffer.byteLength >= MB + 17)
  assert.equal(pool.transferable(a), true)
  const big = pool.take(3 * MB)
  pool.give(big.buffer as ArrayBuffer)
  pool.give(a.buffer as ArrayBuffer)
  assert.equal(pool.spareCount, 2)
  // The smallest spare that fits, not the first given.
  const b = pool.take(MB + 1000)
  assert.equal(b.buffer, a.buffer)
  assert.equal(b.length, MB + 1000)
  assert.equal(pool.spareCount, 1)
  // Too small a spare is not used.
  const c = pool.take(4 * MB)
  assert.notEqual(c.buffer, big.buffer)
  // A Node pool slab or any view into a buffer not handed out here is never transferred.
  const slab = Buffer.from('tiny')
  assert.equal(pool.transferable(slab), slab.byteLength === slab.buffer.byteLength)
  assert.equal(pool.transferable(new Uint8Array(new ArrayBuffer(64), 0, 32)), false)
  assert.equal(pool.transferable(new Uint8Array(new ArrayBuffer(64), 8)), false)
  assert.equal(pool.transferable(new Uint8Array(64)), true)
  // Bounded: odd sizes are refused, and no more than 8 spares or 32 MB are kept.
  const fresh = new BodyBuffers()
  fresh.give(new ArrayBuffer(1000))
  assert.equal(fresh.spareCount, 0)
  for (let i = 0; i < 12; i++) fresh.give(new ArrayBuffer(256 * 1024))
  assert.equal(fresh.spareCount, 8)
  const heavy = new BodyBuffers()
  for (let i = 0; i < 5; i++) heavy.give(new ArrayBuffer(10 * MB - ((10 * MB) % (256 * 1024))))
  assert.equal(heavy.spareCount, 3)
})

test('the worker hands a body buffer back; the next body reuses it and is analysed on its own bytes', async (t) => {
  const counter = createTokenCounter()
  t.after(() => counter.close())
  assert.ok(counter.bodyBuffer)
  const bodyOf = (model: string, bytes: number) => {
    const head = `{"model":"${model}","prompt":"`
    return Buffer.from(`${head}${'x'.repeat(bytes - head.length - 2)}"}`)
  }
  const first = bodyOf('first', MB + 5000)
  const a = counter.bodyBuffer(first.length)
  a.set(first)
  const ra = await counter.analyzeBody('/v1/completions', a, 'vllm', 2 * MB)
  assert.equal(ra?.model, 'first')
  assert.equal(a.length, 0, 'transferred to the worker, not copied')
  // A shorter body in the same (reused, not zeroed) buffer: its view ends at its own length, so
  // the longer body's tail left in the buffer is never read.
  const second = bodyOf('second', MB)
  const b = counter.bodyBuffer(second.length)
  assert.equal(b.buffer.byteLength, MB + 256 * 1024)
  assert.equal(b[0], '{'.charCodeAt(0), 'a reused buffer still holds the earlier body')
  b.set(second)
  const rb = await counter.analyzeBody('/v1/completions', b, 'vllm', 2 * MB)
  assert.equal(rb?.model, 'second')
  assert.equal(rb?.promptChars, MB - '{"model":"second","prompt":"'.length - 2)
})
