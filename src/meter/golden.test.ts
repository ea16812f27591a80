// Pins the public surface of the meter's /metrics: names, types, help, labels and buckets
// (UPDATE_GOLDEN=1 rewrites the golden file), and checks names, types and labels against the
// metric contract table in design.md.
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { REPO_ROOT, SHARED_SKIP, sharedDir } from '../testing/index.js'
import type { TokenCounter } from '../tokens/index.js'
import { createMeter } from './index.js'

const GOLDEN = join(REPO_ROOT, 'src/meter/metrics.golden.txt')
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
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(GOLDEN)) writeFileSync(GOLDEN, text)
  assert.equal(text, readFileSync(GOLDEN, 'utf8'))
  // design.md: token buckets include the class thresholds and 262144; latency buckets resolve
  // 5 ms TTFTs and 10-minute requests.
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

test('names, types and labels agree with design.md "Metric contract"', {
  skip: sharedDir() ? false : SHARED_SKIP,
}, async () => {
  const design = readFileSync(join(sharedDir() as string, 'docs/design.md'), 'utf8')
  const text = await render()
  const ours = [
    'gen_ai_server_request_duration_seconds',
    'gen_ai_server_time_to_first_token_seconds',
    'gen_ai_server_time_per_output_token_seconds',
    'gen_ai_client_token_usage',
    'inferwatch_requests_in_flight',
  ]
  for (const name of ours) {
    const row = design.split('\n').find((l) => l.startsWith(`| \`${name}\``))
    assert.ok(row, `${name} is in design.md`)
    const [, , type, labels] = row.split('|').map((c) => c.trim())
    assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'))
    const want = (labels ?? '')
      .replace(/\(.*\)/, '')
      .split(',')
      .map((l) => l.trim().replace(/`/g, '').split(' ')[0] as string)
      .filter(Boolean)
      .map((l) => LABEL_WORDS[l] ?? l)
      .sort()
    const sample = text
      .split('\n')
      .find((l) => l.startsWith(`${name}${type === 'histogram' ? '_count' : ''}{`))
    assert.ok(sample, `${name} has a series`)
    const have = [...(sample.match(/(\w+)="/g) ?? [])].map((m) => m.slice(0, -2)).sort()
    assert.deepEqual(have, want, name)
  }
})
