// The attribution, cost and KV-exhaustion keys: defaults, parsing, and errors that name the key.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isAppError } from '../shared/index.js'
import { parseConfig } from './index.js'

test('defaults: no header (the user field names clients), 20 clients, no price, 600 s forecast', () => {
  const c = parseConfig({})
  assert.deepEqual(c.attribution, { aliases: {}, maxClients: 20 })
  assert.deepEqual(c.cost, { currency: 'USD' })
  assert.deepEqual(c.alerts.kvCacheExhaustionSoon, { withinSeconds: 600, forSeconds: 300 })
})

test('a header name is stored lower-case (node lower-cases incoming ones); aliases and price kept', () => {
  const c = parseConfig({
    attribution: { header: 'X-App-Name', aliases: { 'key-3f2a9c1b': 'team-a' }, maxClients: 5 },
    cost: { gpuHourly: 1.98, currency: 'CNY' },
    alerts: { kvCacheExhaustionSoon: { withinSeconds: 900 } },
  })
  assert.equal(c.attribution.header, 'x-app-name')
  assert.deepEqual(c.attribution.aliases, { 'key-3f2a9c1b': 'team-a' })
  assert.equal(c.attribution.maxClients, 5)
  assert.deepEqual(c.cost, { gpuHourly: 1.98, currency: 'CNY' })
  assert.equal(c.alerts.kvCacheExhaustionSoon.withinSeconds, 900)
})

test('bad values are CONFIG_INVALID naming the key', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ attribution: { header: 'x app' } }, /attribution\.header/],
    [{ attribution: { maxClients: 0 } }, /attribution\.maxClients/],
    [{ attribution: { aliases: { u1: '' } } }, /attribution\.aliases/],
    [{ attribution: { clients: 3 } }, /clients/],
    [{ cost: { gpuHourly: -1 } }, /cost\.gpuHourly/],
    [{ cost: { currency: 'US Dollar' } }, /cost\.currency/],
    [{ alerts: { kvCacheExhaustionSoon: { withinSeconds: 0 } } }, /kvCacheExhaustionSoon/],
  ]
  for (const [raw, key] of cases)
    assert.throws(
      () => parseConfig(raw),
      (e) => isAppError(e, 'CONFIG_INVALID') && key.test(e.message),
      JSON.stringify(raw),
    )
})
