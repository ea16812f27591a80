import assert from 'node:assert/strict'
import { test } from 'node:test'
import { headerValue, sameLowerAscii } from './index.js'

test('headerValue reads a raw header list case-insensitively, first value first', () => {
  const raw = ['Content-Type', 'text/event-stream', 'X-App-Name', 'a', 'x-app-name', 'b', 'X', 'y']
  assert.equal(headerValue(raw, 'content-type'), 'text/event-stream')
  assert.equal(headerValue(raw, 'x-app-name'), 'a')
  assert.equal(headerValue(raw, 'x'), 'y')
  assert.equal(headerValue(raw, 'authorization'), undefined)
  // A value that looks like a name is never read as one.
  assert.equal(headerValue(['A', 'authorization', 'B', 'c'], 'authorization'), undefined)
  assert.equal(headerValue([], 'x'), undefined)
})

test('headerValue reads a headers object (lower-case names), first of an array value', () => {
  assert.equal(
    headerValue({ 'content-type': 'application/json' }, 'content-type'),
    'application/json',
  )
  assert.equal(headerValue({ 'set-cookie': ['a=1', 'b=2'] }, 'set-cookie'), 'a=1')
  assert.equal(headerValue({}, 'x'), undefined)
})

test('sameLowerAscii is toLowerCase() === for every HTTP token name, without the copy', () => {
  // RFC 9110 §5.6.2 tchar, and the characters next to the letters' ranges ('@', '[', '`', '{').
  const chars = "!#$%&'*+-.^_`|~0123456789@[{abcxyzABCXYZ"
  let a = 11
  const next = () => {
    a = (a * 1103515245 + 12345) % 2147483648
    return a / 2147483648
  }
  const word = () =>
    Array.from(
      { length: 1 + Math.floor(next() * 4) },
      () => chars[Math.floor(next() * chars.length)],
    ).join('')
  for (let n = 0; n < 20000; n++) {
    const name = word()
    const lower = next() < 0.5 ? name.toLowerCase() : word().toLowerCase()
    assert.equal(sameLowerAscii(name, lower), name.toLowerCase() === lower, `${name} vs ${lower}`)
  }
  assert.equal(sameLowerAscii('Keep-Alive', 'keep-alive'), true)
  assert.equal(sameLowerAscii('Keep-Alivf', 'keep-alive'), false)
  assert.equal(sameLowerAscii('Keep-Aliv', 'keep-alive'), false)
})
