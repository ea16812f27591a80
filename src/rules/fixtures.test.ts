import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { test } from 'node:test'
import { parseConfig } from '../config/index.js'
import { type PromSample, parsePrometheusText } from '../engines/index.js'
import { listSharedFixtures, SHARED_SKIP } from '../testing/index.js'
import { runPromTool } from '../testing/prom-stack.js'
import { planRules, renderRecordingRules } from './index.js'
import { toYaml } from './rule-files.js'

// The recording rules evaluated by promtool on every real engine scrape of the maintainers'
// fixture folder (README: Development): gauges are held constant, counters and histogram parts grow
// linearly so that their 5-minute increase equals the scraped value. Expected values are computed
// here from the sample itself (PromQL's histogram_quantile, reimplemented for the check).

const STEP = 15
const WINDOW = 300
const fixtures = listSharedFixtures('engines', '.prom')

type Engine = 'vllm' | 'sglang' | 'llamacpp' | 'tgi'

function engineOf(samples: PromSample[]): Engine {
  const names = samples.map((s) => s.name)
  if (names.some((n) => n.startsWith('vllm:'))) return 'vllm'
  if (names.some((n) => n.startsWith('sglang:'))) return 'sglang'
  if (names.some((n) => n.startsWith('llamacpp:'))) return 'llamacpp'
  return 'tgi'
}

function isCounter(name: string, types: Map<string, string | undefined>): boolean {
  if (/_(bucket|count|sum)$/.test(name)) return true
  return types.get(name) === 'counter' || types.get(name.replace(/_total$/, '')) === 'counter'
}

/** PromQL's bucketQuantile (promql/quantile.go, Prometheus 2.42). */
function histogramQuantile(q: number, buckets: { le: number; count: number }[]): number {
  const b = [...buckets].sort((x, y) => x.le - y.le)
  const last = b[b.length - 1]
  if (!last || last.le !== Number.POSITIVE_INFINITY || b.length < 2 || last.count === 0)
    return Number.NaN
  let rank = q * last.count
  const i = b.findIndex((x) => x.count >= rank)
  if (i === b.length - 1) return b[b.length - 2]?.le ?? Number.NaN
  const cur = b[i] as { le: number; count: number }
  if (i === 0 && cur.le <= 0) return cur.le
  let start = 0
  let count = cur.count
  if (i > 0) {
    const prev = b[i - 1] as { le: number; count: number }
    start = prev.le
    count -= prev.count
    rank -= prev.count
  }
  return start + (cur.le - start) * (rank / count)
}

interface Expectation {
  record: string
  value: number
}

function expectations(engine: Engine, samples: PromSample[]): Expectation[] {
  const of = (name: string) => samples.filter((s) => s.name === name)
  const sum = (name: string) => of(name).reduce((a, s) => a + s.value, 0)
  const has = (name: string) => of(name).length > 0
  const quantile = (family: string) =>
    histogramQuantile(
      0.95,
      of(`${family}_bucket`).map((s) => ({
        le: Number(s.labels.le === '+Inf' ? Infinity : s.labels.le),
        count: s.value,
      })),
    )
  const out: Expectation[] = []
  const p = engine === 'vllm' ? 'vllm:' : engine === 'sglang' ? 'sglang:' : 'llamacpp:'
  if (engine === 'vllm') {
    const kv = has('vllm:kv_cache_usage_perc')
      ? 'vllm:kv_cache_usage_perc'
      : 'vllm:gpu_cache_usage_perc'
    if (has(kv))
      out.push({
        record: 'llm:kv_cache_usage:ratio',
        value: Math.max(...of(kv).map((s) => s.value)),
      })
    if (has('vllm:request_success_total'))
      out.push({ record: 'llm:requests:rate1m', value: sum('vllm:request_success_total') / WINDOW })
  }
  if (engine === 'sglang' && has('sglang:token_usage'))
    out.push({
      record: 'llm:kv_cache_usage:ratio',
      value: Math.max(...of('sglang:token_usage').map((s) => s.value)),
    })
  const running = {
    vllm: 'vllm:num_requests_running',
    sglang: 'sglang:num_running_reqs',
    llamacpp: 'llamacpp:requests_processing',
    tgi: 'tgi_batch_current_size',
  }[engine]
  const waiting = {
    vllm: 'vllm:num_requests_waiting',
    sglang: 'sglang:num_queue_reqs',
    llamacpp: 'llamacpp:requests_deferred',
    tgi: 'tgi_queue_size',
  }[engine]
  if (has(running)) out.push({ record: 'llm:requests_running:sum', value: sum(running) })
  if (has(waiting)) out.push({ record: 'llm:requests_waiting:sum', value: sum(waiting) })
  const queue = engine === 'vllm' ? 'vllm:request_queue_time_seconds' : `${p}queue_time_seconds`
  if (has(`${queue}_count`))
    out.push({
      record: 'llm:queue_time_seconds:mean5m',
      value: sum(`${queue}_sum`) / sum(`${queue}_count`),
    })
  if (has(`${p}time_to_first_token_seconds_bucket`))
    out.push({
      record: 'llm:time_to_first_token_seconds:p95_5m',
      value: quantile(`${p}time_to_first_token_seconds`),
    })
  if (has(`${p}e2e_request_latency_seconds_bucket`))
    out.push({
      record: 'llm:request_duration_seconds:p95_5m',
      value: quantile(`${p}e2e_request_latency_seconds`),
    })
  const generated =
    engine === 'llamacpp' ? 'llamacpp:tokens_predicted_total' : `${p}generation_tokens_total`
  if (has(generated))
    out.push({ record: 'llm:output_tokens:rate1m', value: sum(generated) / WINDOW })
  // An elided sample (no +Inf bucket) has no quantile: nothing to compare.
  return out.filter((e) => Number.isFinite(e.value))
}

function labelText(l: Record<string, string>): string {
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`
}

for (const file of fixtures.length ? fixtures : ['(none)']) {
  test(`recording rules on the real sample ${basename(file)}`, {
    skip: fixtures.length ? false : SHARED_SKIP,
  }, async (t) => {
    // The vLLM docs sample elides lines with "..." (its .source.txt says so).
    const text = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '...')
      .join('\n')
    const parsed = parsePrometheusText(text)
    const engine = engineOf(parsed.samples)
    const types = new Map([...parsed.metadata].map(([k, m]) => [k, m.type]))
    const steps = WINDOW / STEP + 3
    const input = parsed.samples.map((s) => {
      // Prometheus renames a scraped `engine` label (vLLM V1's engine core) when the target sets one.
      const { engine: core, ...rest } = s.labels
      const labels = {
        ...rest,
        ...(core !== undefined ? { exported_engine: core } : {}),
        job: engine,
        instance: 'fixture:8000',
        engine,
      }
      const values = isCounter(s.name, types)
        ? `0+${(s.value * STEP) / WINDOW}x${steps}`
        : `${s.value}x${steps}`
      return { series: `${s.name}${labelText(labels)}`, values }
    })
    const model = parsed.samples.find((s) => s.labels.model_name)?.labels.model_name
    const outLabels = { job: engine, instance: 'fixture:8000', engine, ...(model ? { model } : {}) }
    const exp = expectations(engine, parsed.samples)
    assert.ok(exp.length > 0, `nothing to check in ${file}`)
    const dir = mkdtempSync(join(tmpdir(), 'iw-fixture-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(
      join(dir, 'inferwatch.rules.yml'),
      renderRecordingRules(planRules(parseConfig({}))),
    )
    const evalTime = `${WINDOW + STEP}s`
    const tests = {
      rule_files: ['inferwatch.rules.yml'],
      evaluation_interval: `${STEP}s`,
      tests: [
        {
          interval: `${STEP}s`,
          input_series: input,
          promql_expr_test: exp.map((e) => ({
            expr: `abs(${e.record} - ${e.value}) <= bool ${1e-9 * Math.max(1, Math.abs(e.value))}`,
            eval_time: evalTime,
            exp_samples: [{ labels: labelText(outLabels), value: 1 }],
          })),
        },
      ],
    }
    writeFileSync(join(dir, 'fixture.test.yml'), toYaml(tests))
    const res = await runPromTool('promtool', ['test', 'rules', 'fixture.test.yml'], dir)
    assert.equal(
      res.code,
      0,
      `${exp.map((e) => `${e.record}=${e.value}`).join(', ')}\n${res.output}`,
    )
    // The contract's engine-level names the issue asks for, where the sample carries them.
    const records = new Set(exp.map((e) => e.record))
    if (engine === 'sglang') {
      for (const r of [
        'llm:kv_cache_usage:ratio',
        'llm:requests_running:sum',
        'llm:requests_waiting:sum',
      ])
        assert.ok(records.has(r), r)
    }
  })
}

test('fixture cases can fail: a wrong expectation is reported by promtool', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iw-fixture-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'inferwatch.rules.yml'), renderRecordingRules(planRules(parseConfig({}))))
  const series = 'sglang:token_usage{job="sglang",instance="x:1",engine="sglang",model_name="m"}'
  writeFileSync(
    join(dir, 't.yml'),
    toYaml({
      rule_files: ['inferwatch.rules.yml'],
      tests: [
        {
          interval: '15s',
          input_series: [{ series, values: '0.28x4' }],
          promql_expr_test: [
            {
              expr: 'abs(llm:kv_cache_usage:ratio - 0.29) <= bool 1e-9',
              eval_time: '30s',
              exp_samples: [
                { labels: '{job="sglang", instance="x:1", engine="sglang", model="m"}', value: 1 },
              ],
            },
          ],
        },
      ],
    }),
  )
  const res = await runPromTool('promtool', ['test', 'rules', 't.yml'], dir)
  assert.notEqual(res.code, 0)
  assert.match(res.output, /got: \{engine="sglang", instance="x:1", job="sglang", model="m"\} 0/)
})
