// doctor against an engine whose /metrics is hostile (mutations of real captures): a report with
// the /metrics check saying what it found, never a throw.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import {
  type FakeEngine,
  PROM_CONTENT_TYPE,
  readEngineTestdata,
  startFakeEngine,
  vllmRoutes,
} from '../testing/fake-engines.js'
import { fuzz, mutatedText } from '../testing/fuzz.js'
import { renderDoctorReport, runDoctor } from './index.js'

let engine: FakeEngine
before(async () => {
  engine = await startFakeEngine(vllmRoutes())
})
after(() => engine.close())

test('doctor on an engine with hostile /metrics: a report naming what it found, never a throw', async () => {
  const statuses = new Set<string>()
  await fuzz(
    'doctor /metrics',
    fc.asyncProperty(
      mutatedText(
        [readEngineTestdata('vllm-qwen3-4b.prom')],
        ['{', '"', '\n', 'x'.repeat(50_000)],
        100_000,
      ),
      async (text) => {
        engine.setRoutes({ '/metrics': { body: text, contentType: PROM_CONTENT_TYPE } })
        const report = await runDoctor({ upstream: engine.url, timeoutMs: 15_000 })
        const metrics = report.checks.find((c) => c.id === 'engine.metrics')
        assert.ok(metrics, 'the report has the /metrics check')
        statuses.add(metrics.status)
        assert.ok(metrics.finding.length > 0)
        if (metrics.status === 'fail') assert.ok(metrics.fix, 'a failed check says what to do')
        assert.ok(renderDoctorReport(report).includes(metrics.title))
      },
    ),
    12,
  )
  assert.ok(statuses.size > 0)
})
