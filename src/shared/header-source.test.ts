import assert from 'node:assert/strict'
import { test } from 'node:test'
import { headerValue } from './index.js'

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
