// The rules of _recording-beyond.ts and LLMKVCacheExhaustionSoon through promtool: with and
// without a GPU price, in both languages and both profiles, and a broken rule is caught.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { parseConfig } from '../config/index.js'
import { runPromTool } from '../testing/prom-stack.js'
import { renderGrafanaDashboard, writeRules } from './index.js'

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'iw-beyond-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

type Rule = { record?: string; alert?: string; expr: string; labels?: Record<string, string> }
const rulesOf = (dir: string): Rule[] =>
  (
    parse(readFileSync(join(dir, 'rules/inferwatch.rules.yml'), 'utf8')) as {
      groups: { rules: Rule[] }[]
    }
  ).groups.flatMap((g) => g.rules)

const promtoolTest = (dir: string) =>
  runPromTool('promtool', ['test', 'rules', 'inferwatch.test.yml'], join(dir, 'rules'))

for (const [language, profile] of [
  ['zh', 'default'],
  ['en', 'test'],
] as const) {
  test(`with cost.gpuHourly (${language}, ${profile} profile): the cost rule, its currency and its promtool test`, async (t) => {
    const dir = tmp(t)
    const config = parseConfig({
      alerts: { language, profile },
      cost: { gpuHourly: 1.98, currency: 'CNY' },
    })
    await writeRules(config, dir)
    const cost = rulesOf(dir).find((r) => r.record === 'llm:cost_per_million_tokens:rate5m')
    assert.deepEqual(cost?.labels, { currency: 'CNY' })
    // 1.98 per GPU-hour = 550 per GPU-second per 1M.
    assert.match(cost?.expr ?? '', /\* 550\)/)
    const tests = readFileSync(join(dir, 'rules/inferwatch.test.yml'), 'utf8')
    assert.match(tests, /round\(llm:cost_per_million_tokens:rate5m, 0\.001\)/)
    const check = await runPromTool(
      'promtool',
      ['check', 'rules', 'inferwatch.rules.yml'],
      join(dir, 'rules'),
    )
    assert.equal(check.code, 0, check.output)
    const unit = await promtoolTest(dir)
    assert.equal(unit.code, 0, unit.output)
    assert.match(renderGrafanaDashboard(config), /cost per 1M tokens \(CNY\)/)
  })
}

test('without a price: no cost rule, the other four and the alert are there', async (t) => {
  const dir = tmp(t)
  await writeRules(parseConfig({ alerts: { kvCacheExhaustionSoon: { withinSeconds: 900 } } }), dir)
  const rules = rulesOf(dir)
  const records = new Set(rules.map((r) => r.record))
  for (const name of [
    'llm:client_long_context_requests:share_rate5m',
    'llm:request_phase_seconds:mean5m',
    'llm:kv_cache_exhaustion_seconds',
    'llm:energy_joules_per_output_token:rate5m',
  ])
    assert.ok(records.has(name), name)
  assert.ok(!records.has('llm:cost_per_million_tokens:rate5m'))
  const alert = rules.find((r) => r.alert === 'LLMKVCacheExhaustionSoon')
  assert.equal(alert?.expr, 'llm:kv_cache_exhaustion_seconds < 900')
  const unit = await promtoolTest(dir)
  assert.equal(unit.code, 0, unit.output)
})

test('the generated tests catch a forecast that does not stay absent when KV is flat or falling', async (t) => {
  const dir = tmp(t)
  await writeRules(parseConfig({ alerts: { language: 'en' } }), dir)
  const file = join(dir, 'rules/inferwatch.rules.yml')
  const text = readFileSync(file, 'utf8')
  assert.ok(text.includes('deriv(llm:kv_cache_usage:ratio[30m]) > 0)'))
  writeFileSync(
    file,
    text.replace(
      'deriv(llm:kv_cache_usage:ratio[30m]) > 0)',
      'deriv(llm:kv_cache_usage:ratio[30m]))',
    ),
  )
  const unit = await promtoolTest(dir)
  assert.notEqual(unit.code, 0)
  assert.match(unit.output, /falling:8000|gpu-d:8000/)
})
