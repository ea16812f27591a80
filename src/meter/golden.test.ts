// Pins the public surface of the meter's /metrics: names, types, help, labels and buckets
// (UPDATE_GOLDEN=1 rewrites the golden file), and checks names, types and labels against the
// metrics table of the README ("### Metrics"), which is what users read.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { assertGolden, REPO_ROOT } from '../testing/index.js'
import type { TokenCounter } from '../tokens/index.js'
import { createMeter } from './index.js'

const noCounter: TokenCounter = {
  countText: async () => undefined,
  analyzeBody: async () => undefined,
  workerStarted: () => false,
  tokenizerLoaded: () => false,
  close: async () => {},
}

async function render(): Promise<string> {
  const registry = new Registry()
  const meter = createMeter({
    registry,
    contextClasses: { mediumFromTokens: 32768, longFromTokens: 100000 },
    tokenCounter: noCounter,
  })
  meter.setServedModels(['qwen3-4b-instruct-2507'], 'vllm')
  const obs = meter.observe({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: {},
    startedAtMs: 0,
  })
  assert.ok(obs)
  obs.requestChunk(
    Buffer.from(
      '{"model":"qwen3-4b-instruct-2507","messages":[{"role":"user","content":"Hi"}],"stream":true}',
    ),
  )
  obs.requestEnd()
  obs.responseHead(200, { 'content-type': 'text/event-stream' }, 1)
  obs.responseChunk(Buffer.from('data: {"choices":[{"delta":{"content":"a"}}]}\n\n'), 50)
  obs.responseChunk(
    Buffer.from('data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2}}\n\n'),
    60,
  )
  obs.end({ errorType: '', atMs: 70 })
  await meter.settled()
  // Values vary; names, types, help, label names and bucket boundaries are the surface.
  return (await registry.metrics()).replace(/^([^#\s][^ ]*) \S+$/gm, '$1 <value>')
}

test('/metrics matches the golden file', async () => {
  const text = await render()
  assertGolden('meter', 'metrics.txt', text)
  // Token buckets include the default context-class thresholds (32768, 100000) and Qwen3's
  // 262144-token context; latency buckets resolve 5 ms TTFTs and 10-minute requests.
  for (const le of ['32768', '100000', '262144'])
    assert.match(text, new RegExp(`^gen_ai_client_token_usage_bucket\\{le="${le}",`, 'm'))
  for (const le of ['0.005', '600'])
    assert.match(
      text,
      new RegExp(`^gen_ai_server_time_to_first_token_seconds_bucket\\{le="${le}",`, 'm'),
    )
})

const LABEL_WORDS: Record<string, string> = {
  operation: 'gen_ai_operation_name',
  model: 'gen_ai_request_model',
  provider: 'gen_ai_provider_name',
}

/** The README's metrics table: name -> type and label names ("same" = the row above's labels). */
function readmeMetrics(): Map<string, { type: string; labels: string[] }> {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
  const start = readme.indexOf('\n### Metrics\n')
  assert.ok(start >= 0, 'README.md has a "### Metrics" section')
  const end = readme.indexOf('\n#', start + 1)
  const section = readme.slice(start + 1, end < 0 ? undefined : end)
  const rows = new Map<string, { type: string; labels: string[] }>()
  let previous: string[] = []
  for (const line of section.split('\n')) {
    const m = /^\| `(\w+)` \|/.exec(line)
    if (!m?.[1]) continue
    // Cells split on unescaped pipes: `input`\|`output` stays inside its cell.
    const [, , type = '', cell = ''] = line.split(/(?<!\\)\|/).map((c) => c.trim())
    const same = /^same\b/.test(cell)
    const named = (same ? cell.replace(/^same\s*\+?/, '') : cell)
      .replace(/\(.*\)/, '')
      .split(',')
      .map((l) => l.trim().replace(/`/g, ''))
      .filter(Boolean)
      .map((l) => LABEL_WORDS[l] ?? l)
    const labels = same ? [...previous, ...named] : named
    previous = labels
    rows.set(m[1], { type, labels: [...labels].sort() })
  }
  return rows
}

test('names, types and labels agree with the README metrics table', async () => {
  const table = readmeMetrics()
  const text = await render()
  const ours = [
    'gen_ai_server_request_duration_seconds',
    'gen_ai_server_time_to_first_token_seconds',
    'gen_ai_server_time_per_output_token_seconds',
    'gen_ai_client_token_usage',
    'inferwatch_requests_in_flight',
    'inferwatch_client_requests_total',
    'inferwatch_client_tokens_total',
  ]
  assert.deepEqual([...table.keys()].sort(), [...ours].sort(), 'the README lists every metric')
  for (const name of ours) {
    const row = table.get(name)
    assert.ok(row, `${name} is in the README`)
    assert.match(text, new RegExp(`^# TYPE ${name} ${row.type}$`, 'm'))
    const sample = text
      .split('\n')
      .find((l) => l.startsWith(`${name}${row.type === 'histogram' ? '_count' : ''}{`))
    assert.ok(sample, `${name} has a series`)
    const have = [...(sample.match(/(\w+)="/g) ?? [])].map((m) => m.slice(0, -2)).sort()
    assert.deepEqual(have, row.labels, name)
  }
})
