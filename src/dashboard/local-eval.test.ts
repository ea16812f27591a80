import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { parseConfig } from '../config/index.js'
import { buildDashboardPanels, planRules } from '../rules/index.js'
import { answersLocally, evaluateInstant, histogramQuantile } from './_local-eval.js'
import { BadQuery, parseQueryRequest } from './_prometheus.js'
import { allowedQueries, buildDashboardSpec, CONTEXT_CLASS_QUERY } from './_queries.js'
import { snapshotOf } from './_sampler.js'
import { formatValue, legendOf } from './client/format.js'

test('histogramQuantile interpolates inside the bucket, as Prometheus does', () => {
  const inf = Number.POSITIVE_INFINITY
  // 100 observations between 0.2 and 0.4: p95 = 0.2 + 0.2 * 0.95.
  assert.equal(histogramQuantile(0.95, { les: [0.2, 0.4, inf], counts: [0, 100, 100] }), 0.39)
  // The +Inf bucket answers the largest finite bound; nothing observed answers nothing.
  assert.equal(histogramQuantile(0.99, { les: [0.2, 0.4, inf], counts: [0, 50, 100] }), 0.4)
  assert.equal(histogramQuantile(0.5, { les: [1, inf], counts: [0, 0] }), undefined)
})

test('in-memory values: rates, error and long-context ratios and p95 from registry snapshots', async () => {
  const registry = new Registry()
  const { Histogram } = await import('prom-client')
  const h = new Histogram({
    name: 'gen_ai_server_request_duration_seconds',
    help: 'x',
    labelNames: ['context_class', 'error_type'],
    buckets: [0.2, 0.4],
    registers: [registry],
  })
  const snap = async (t: number) => snapshotOf((await registry.getMetricsAsJSON()) as never, t)
  const first = await snap(1000)
  for (let i = 0; i < 16; i++) h.observe({ context_class: 'short', error_type: '' }, 0.3)
  for (let i = 0; i < 3; i++) h.observe({ context_class: 'long', error_type: '' }, 0.3)
  h.observe({ context_class: 'short', error_type: '503' }, 0.1)
  const second = await snap(1010)
  const at = (expr: string) => evaluateInstant(expr, [first, second], 1010)
  assert.deepEqual(at('llm:requests:rate1m'), [{ labels: {}, value: 2 }])
  assert.deepEqual(at('llm:request_errors:ratio_rate5m'), [{ labels: {}, value: 0.05 }])
  assert.deepEqual(at('llm:long_context_requests:ratio_rate5m'), [{ labels: {}, value: 0.15 }])
  assert.equal(at('llm:request_duration_seconds:p95_5m')[0]?.value.toFixed(3), '0.390')
  assert.deepEqual(
    at(CONTEXT_CLASS_QUERY).map((p) => [p.labels.context_class, p.value]),
    [
      ['short', 1.7],
      ['long', 0.3],
    ],
  )
  // Engine series exist only in Prometheus; long after the last sample there is no value.
  assert.equal(answersLocally('llm:kv_cache_usage:ratio'), false)
  assert.deepEqual(evaluateInstant('llm:requests:rate1m', [first, second], 5000), [])
})

test('the query API lets through exactly the panels and tiles PromQL', () => {
  const spec = buildDashboardSpec(parseConfig({}))
  const allowed = allowedQueries(spec)
  const p = (q: Record<string, string>) => new URLSearchParams(q)
  assert.deepEqual(parseQueryRequest('query', p({ query: ' llm:requests:rate1m ' }), allowed), {
    kind: 'query',
    query: 'llm:requests:rate1m',
  })
  const bads: Record<string, string>[] = [
    { query: 'up' },
    { query: 'llm:requests:rate1m or up' },
    { query: 'llm:requests:rate1m', time: 'now' },
    { query: 'llm:requests:rate1m', extra: '1' },
  ]
  for (const bad of bads)
    assert.throws(() => parseQueryRequest('query', p(bad), allowed), BadQuery, JSON.stringify(bad))
  assert.throws(
    () =>
      parseQueryRequest('query_range', p({ query: 'llm:requests:rate1m', start: '1' }), allowed),
    /missing parameter end/,
  )
  // Grafana and the page draw the same panels on the same queries (Grafana adds its $model filter).
  const grafana = buildDashboardPanels(planRules(parseConfig({})))
  for (const panel of grafana)
    assert.deepEqual(
      spec.panels.find((x) => x.key === panel.key)?.targets,
      panel.targets,
      panel.key,
    )
})

test('values and legends read as people read them', () => {
  assert.equal(formatValue(0.39, 's'), '390 ms')
  assert.equal(formatValue(2.5, 's'), '2.5 s')
  assert.equal(formatValue(0.045, 'percentunit'), '4.5%')
  assert.equal(formatValue(10, 'reqps'), '10 req/s')
  assert.equal(formatValue(Number.NaN, 's'), '—')
  assert.equal(legendOf('p95 {{job}}/{{instance}} {{model}}', { model: 'qwen' }), 'p95 qwen')
  assert.equal(legendOf('{{context_class}}', { context_class: 'long' }), 'long')
  assert.equal(legendOf('{{job}}/{{instance}} {{model}}', { instance: 'a:1' }), 'a:1')
  assert.equal(legendOf('{{job}}/{{instance}} {{model}}', {}), '')
})
