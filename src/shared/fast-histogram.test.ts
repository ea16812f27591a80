import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Histogram, Registry } from 'prom-client'
import { FastHistogram } from './index.js'

const LATENCY_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.1, 0.5, 1, 2.5, 10, 60, 600, 1200]

// The hot-path histogram must render exactly as prom-client's does, values included.
test('FastHistogram renders and reads like prom-client Histogram', async () => {
  const names = ['a', 'b', 'error_type'] as const
  const ours = new Registry()
  const theirs = new Registry()
  const fast = new FastHistogram('h_seconds', 'help "x"\\', names, LATENCY_BUCKETS_SECONDS, ours)
  const ref = new Histogram({
    name: 'h_seconds',
    help: 'help "x"\\',
    labelNames: names,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [theirs],
  })
  const values = [0, 0.001, 0.0011, 0.5, 1200, 1200.5, 3, 1e-9, 7.5, 99999]
  const labelSets = [
    { a: 'x', b: 'y', error_type: '' },
    { b: 'y', a: 'x', error_type: '503' },
    { a: 'x', b: 'q"\n', error_type: '' },
  ]
  values.forEach((v, i) => {
    const labels = labelSets[i % labelSets.length] as Record<(typeof names)[number], string>
    fast.observe(labels, v)
    ref.observe(labels, v)
  })
  assert.equal(await ours.metrics(), await theirs.metrics())
  assert.deepEqual(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON())
  assert.throws(() => fast.observe(labelSets[0] as never, Number.NaN), TypeError)
  ours.resetMetrics()
  theirs.resetMetrics()
  assert.equal(await ours.metrics(), await theirs.metrics())
})
