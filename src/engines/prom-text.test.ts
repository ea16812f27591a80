import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { isAppError } from '../shared/index.js'
import { readEngineTestdata } from '../testing/fake-engines.js'
import { listSharedFixtures, SHARED_SKIP } from '../testing/index.js'
import { detectMetricPrefixes, findSamples, parsePrometheusText } from './prom-text.js'

describe('parsePrometheusText', () => {
  test('reads names, labels with escapes, special values and timestamps', () => {
    const text = [
      '# HELP a_total A \\\\ counter\\nwith newline',
      '# TYPE a_total counter',
      'a_total{path="C:\\\\x",msg="say \\"hi\\"\\n",} 3 1700000000000',
      'b NaN',
      'c{le="+Inf"} +Inf',
      'd -Inf',
      'e 1.5e+06',
      '# a free comment',
      '',
    ].join('\n')
    const e = parsePrometheusText(text)
    assert.equal(e.samples.length, 5)
    assert.deepEqual(e.samples[0], {
      name: 'a_total',
      labels: { path: 'C:\\x', msg: 'say "hi"\n' },
      value: 3,
      timestampMs: 1700000000000,
    })
    assert.ok(Number.isNaN(e.samples[1]?.value))
    assert.equal(e.samples[2]?.value, Number.POSITIVE_INFINITY)
    assert.equal(e.samples[3]?.value, Number.NEGATIVE_INFINITY)
    assert.equal(e.samples[4]?.value, 1_500_000)
    assert.deepEqual(e.metadata.get('a_total'), {
      help: 'A \\ counter\nwith newline',
      type: 'counter',
    })
  })

  test('stops at the OpenMetrics # EOF', () => {
    const e = parsePrometheusText('x 1\n# EOF\n')
    assert.equal(e.samples.length, 1)
  })

  const bad: [string, string][] = [
    ['x', 'no value'],
    ['x{a="1"', 'unterminated label set'],
    ['x{a=1} 2', 'unquoted label value'],
    ['x{a="1",a="2"} 2', 'duplicate label'],
    ['x{1a="1"} 2', 'bad label name'],
    ['x one', 'non-numeric value'],
    ['x 1 2 3', 'extra field'],
    ['x{a="\\q"} 1', 'bad escape'],
    ['# TYPE x bogus', 'unknown type'],
    ['# TYPE x gauge\n# TYPE x counter', 'second TYPE'],
    ['<html><body>Not Found</body></html>', 'html'],
    ['...', 'doc elision'],
  ]
  for (const [text, why] of bad) {
    test(`rejects ${why}`, () => {
      assert.throws(
        () => parsePrometheusText(text),
        (err) => isAppError(err, 'METRICS_PARSE_FAILED') && /line \d+/.test(err.message),
      )
    })
  }

  test('round-trips any label value (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.double({ noNaN: true }), (value, n) => {
        const escaped = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
        const num = Object.is(n, -0) ? '0' : String(n).replace('Infinity', 'Inf')
        const e = parsePrometheusText(`m{v="${escaped}"} ${num}\n`)
        assert.equal(e.samples[0]?.labels.v, value)
        assert.equal(e.samples[0]?.value, Object.is(n, -0) ? 0 : n)
      }),
      { numRuns: 200 },
    )
  })

  test('committed fixtures parse and expose vLLM cache_config_info', () => {
    const e = parsePrometheusText(readEngineTestdata('vllm-qwen3-4b.prom'))
    const [cache] = findSamples(e, 'vllm:cache_config_info')
    assert.equal(cache?.labels.gpu_memory_utilization, '0.9')
    assert.deepEqual(detectMetricPrefixes(e), ['vllm:'])
    assert.deepEqual(
      detectMetricPrefixes(parsePrometheusText(readEngineTestdata('tgi-synthetic.prom'))),
      ['tgi_'],
    )
    assert.deepEqual(
      detectMetricPrefixes(parsePrometheusText(readEngineTestdata('vllm-no-log-stats.prom'))),
      [],
    )
  })

  const shared = listSharedFixtures('engines', '.prom')
  const expected: Record<string, string> = {
    llamacpp: 'llamacpp:',
    sglang: 'sglang:',
    vllm: 'vllm:',
  }
  test('every real engine capture parses (doc elision lines "..." removed)', {
    skip: shared.length ? false : SHARED_SKIP,
  }, () => {
    for (const file of shared) {
      const text = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '...')
        .join('\n')
      const e = parsePrometheusText(text)
      assert.ok(e.samples.length > 0, basename(file))
      const engine = basename(file).split('-')[0] ?? ''
      assert.ok(
        detectMetricPrefixes(e).includes(expected[engine] ?? '?'),
        `${basename(file)} prefix`,
      )
    }
  })

  test('the vLLM 0.10.0 capture keeps labels engine and model_name', {
    skip: shared.length ? false : SHARED_SKIP,
  }, () => {
    const file = shared.find((f) => f.includes('vllm-0.10.0'))
    assert.ok(file)
    const e = parsePrometheusText(readFileSync(file, 'utf8'))
    const [s] = findSamples(e, 'vllm:kv_cache_usage_perc')
    assert.deepEqual(s?.labels, { engine: '0', model_name: 'zai-org/GLM-4.5' })
    assert.equal(s?.value, 9.75010481363281e-6)
    assert.equal(e.metadata.get('vllm:gpu_prefix_cache_hits_total')?.type, 'counter')
  })
})
