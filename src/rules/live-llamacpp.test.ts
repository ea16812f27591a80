import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseConfig } from '../config/index.js'
import { startProxyService } from '../server/index.js'
import {
  LLAMACPP_SKIP,
  type LlamaServer,
  llamaServerFiles,
  startLlamaServer,
} from '../testing/llamacpp.js'
import { listPrometheusAlerts, queryPrometheus, waitUntil } from '../testing/prom-stack.js'
import { startRulesStack } from '../testing/rules-stack.js'

// The rules generated with `--engine llamacpp`, on Debian's Prometheus 2.42 scraping the REAL
// llama.cpp server (llama-server b4748, which still exports llamacpp:kv_cache_usage_ratio): first
// without the proxy (the engine's own counters feed the llm:* names), then with `inferwatch proxy`
// in front (the proxy's counts win; KV, running and waiting stay the engine's), until two long
// prompts held in both slots' KV cache make LLMKVCacheHigh fire.

const skip = llamaServerFiles() ? false : LLAMACPP_SKIP

async function complete(base: string, prompt: string, nPredict = 4): Promise<void> {
  const res = await fetch(`${base}/completion`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt, n_predict: nPredict, temperature: 0 }),
  })
  assert.equal(res.status, 200, await res.clone().text())
  await res.arrayBuffer()
}

/** A prompt of about `tokens` tokens by the engine's own tokenizer (checked, not guessed). */
async function promptOf(llama: LlamaServer, tokens: number, word: string): Promise<string> {
  const text = ` ${word} ${word}s`.repeat(Math.floor(tokens / 2))
  const res = await fetch(`${llama.url}/tokenize`, {
    method: 'POST',
    body: JSON.stringify({ content: text }),
  })
  const n = ((await res.json()) as { tokens: number[] }).tokens.length
  assert.ok(n > tokens * 0.95 && n < tokens * 1.05, `${n} tokens, wanted about ${tokens}`)
  return text
}

/** Each sample's labels, the metric name left out. */
const labelsOf = (samples: { labels: Record<string, string> }[]) =>
  samples.map(({ labels: { __name__: _name, ...rest } }) => rest)
const jobs = (samples: { labels: Record<string, string> }[]) =>
  samples.map((s) => s.labels.job).sort()

describe('generated rules on the real llama.cpp', { skip }, () => {
  test('live: llm:* series without and with the proxy; LLMKVCacheHigh fires', async (t) => {
    // -c 8192 -np 2: two slots of 4096 tokens; the KV ratio is used cells over all 8192.
    const llama = await startLlamaServer()
    t.after(() => llama.close())
    const service = await startProxyService(
      parseConfig({
        upstream: llama.url,
        listen: '127.0.0.1:0',
        admin: '127.0.0.1:0',
        gpu: { enabled: false },
      }),
    )
    t.after(() => service.close())
    const stack = await startRulesStack({
      upstream: llama.url,
      engine: 'llamacpp',
      admin: new URL(service.adminUrl).host,
      alerts: { profile: 'test', language: 'en' },
    })
    t.after(() => stack.close())
    const { prom } = stack
    const target = { job: 'llamacpp', instance: new URL(llama.url).host, engine: 'llamacpp' }

    // Without the proxy: the engine's gauges, scraped even before any request.
    for (const record of [
      'llm:kv_cache_usage:ratio',
      'llm:requests_running:sum',
      'llm:requests_waiting:sum',
    ]) {
      const s = await waitUntil(`${record} from llama.cpp`, async () => {
        const r = await queryPrometheus(prom.url, record)
        return r.length > 0 ? r : undefined
      })
      assert.deepEqual(labelsOf(s), [target], record)
    }
    // Requests straight to the engine, once Prometheus has a sample to compare with.
    for (const word of ['alpha', 'beta', 'gamma']) await complete(llama.url, word)
    // The prompt cache keeps the last prompts in KV: a small, non-zero share.
    await waitUntil('KV usage above 0', async () =>
      ((await queryPrometheus(prom.url, 'llm:kv_cache_usage:ratio'))[0]?.value ?? 0) > 0
        ? true
        : undefined,
    )
    const kv = await queryPrometheus(prom.url, 'llm:kv_cache_usage:ratio')
    assert.ok((kv[0]?.value ?? 0) > 0 && (kv[0]?.value ?? 1) < 0.1, `KV ${kv[0]?.value}`)
    // Token rates from llama.cpp's own counters, while the proxy has metered nothing.
    const input = await waitUntil('llm:input_tokens:rate1m from llama.cpp', async () => {
      const r = await queryPrometheus(prom.url, 'llm:input_tokens:rate1m > 0')
      return r.length > 0 ? r : undefined
    })
    assert.deepEqual(jobs(input), ['llamacpp'])

    // With the proxy in front: the proxy's own series, one source per request.
    // One request first: rate() needs the series scraped once before it grows.
    await complete(service.proxyUrl, 'delta')
    await service.settled()
    await waitUntil('the proxy scraped', async () => {
      const r = await queryPrometheus(prom.url, 'gen_ai_server_request_duration_seconds_count')
      return r.length > 0 ? r : undefined
    })
    for (const word of ['epsilon', 'zeta']) await complete(service.proxyUrl, word)
    await service.settled()
    const rates = await waitUntil('llm:requests:rate1m from the proxy', async () => {
      const r = await queryPrometheus(prom.url, 'llm:requests:rate1m > 0')
      return r.length > 0 ? r : undefined
    })
    assert.deepEqual(
      rates.map((r) => [r.labels.job, r.labels.engine]),
      [['inferwatch', 'llamacpp']],
    )
    const proxied = await waitUntil('llm:input_tokens:rate1m from the proxy alone', async () => {
      const r = await queryPrometheus(prom.url, 'llm:input_tokens:rate1m')
      return r.length > 0 && jobs(r).join() === 'inferwatch' ? r : undefined
    })
    assert.ok((proxied[0]?.value ?? 0) > 0)

    // Two long prompts at once, one per slot, stay in the KV cache: > 85 % of 8192 cells.
    assert.deepEqual(
      (await listPrometheusAlerts(prom.url)).filter((a) => a.labels.alertname === 'LLMKVCacheHigh'),
      [],
    )
    const [a, b] = await Promise.all([promptOf(llama, 3600, 'cat'), promptOf(llama, 3600, 'dog')])
    await Promise.all([complete(service.proxyUrl, a, 2), complete(service.proxyUrl, b, 2)])
    const firing = await waitUntil('LLMKVCacheHigh firing', async () => {
      const x = (await listPrometheusAlerts(prom.url)).find(
        (y) => y.labels.alertname === 'LLMKVCacheHigh',
      )
      return x?.state === 'firing' ? x : undefined
    })
    assert.equal(firing.labels.engine, 'llamacpp')
    assert.equal(firing.labels.instance, target.instance)
    assert.equal(firing.labels.severity, 'warning')
    assert.ok(firing.value > 0.85 && firing.value <= 1, `KV ${firing.value}`)
    // The proxy exports no KV series of its own: still the engine's, once.
    assert.deepEqual(labelsOf(await queryPrometheus(prom.url, 'llm:kv_cache_usage:ratio')), [
      target,
    ])
  })
})
