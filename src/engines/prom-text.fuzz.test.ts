// Hostile /metrics text: mutations of real engine captures (inserted garbage, cut and repeated
// lines, huge lines, stray bytes). The parser returns samples or throws METRICS_PARSE_FAILED
// naming a line, never anything else, and never takes long.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import fc from 'fast-check'
import { isAppError } from '../shared/index.js'
import { readEngineTestdata } from '../testing/fake-engines.js'
import { fuzz, hostileString, mutatedText, withinMs } from '../testing/fuzz.js'
import { listSharedFixtures } from '../testing/index.js'
import { detectMetricPrefixes, findSamples, parsePrometheusText } from './index.js'

const captures = [
  readEngineTestdata('vllm-qwen3-4b.prom'),
  readEngineTestdata('tgi-synthetic.prom'),
  ...listSharedFixtures('engines', '.prom')
    .slice(0, 6)
    .map((p) => readFileSync(p, 'utf8')),
]

const mutated = mutatedText(captures, [
  '\n',
  '{',
  '}',
  '"',
  '\\',
  ' NaN',
  ' 1e309',
  '# TYPE x histogram\n',
  '# EOF\n',
  'a{b="',
  'x'.repeat(100_000),
  '{a="1",'.repeat(2_000),
])

test('parsePrometheusText: samples or METRICS_PARSE_FAILED naming the line, quickly', async () => {
  const outcomes = { parsed: 0, rejected: 0 }
  await fuzz(
    'prom text',
    fc.property(fc.oneof({ weight: 5, arbitrary: mutated }, hostileString), (text) => {
      try {
        const e = withinMs('parsePrometheusText', 500, () => parsePrometheusText(text))
        outcomes.parsed++
        for (const s of e.samples) {
          assert.equal(typeof s.name, 'string')
          assert.equal(typeof s.value, 'number')
          for (const v of Object.values(s.labels)) assert.equal(typeof v, 'string')
        }
        detectMetricPrefixes(e)
        findSamples(e, 'vllm:num_requests_running')
      } catch (err) {
        if (!isAppError(err, 'METRICS_PARSE_FAILED')) throw err
        assert.match(err.message, /line \d+/)
        outcomes.rejected++
      }
    }),
    300,
  )
  assert.ok(outcomes.parsed > 0 && outcomes.rejected > 0, JSON.stringify(outcomes))
})
