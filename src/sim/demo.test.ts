import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseConfig } from '../config/index.js'
import { startProxyService } from '../server/index.js'
import {
  quantileFromBuckets,
  renderMetricsSummary,
  sendDemoTraffic,
  startScriptedEngine,
} from './index.js'

test('quantileFromBuckets interpolates like histogram_quantile', () => {
  const b = [
    { le: 0.1, count: 0 },
    { le: 0.2, count: 10 },
    { le: Number.POSITIVE_INFINITY, count: 10 },
  ]
  assert.ok(Math.abs((quantileFromBuckets(0.5, b) ?? 0) - 0.15) < 1e-9)
  assert.equal(quantileFromBuckets(0.5, [{ le: Number.POSITIVE_INFINITY, count: 0 }]), undefined)
})

test('demo traffic through the real meter gives a summary with every request metered', async (t) => {
  const engine = await startScriptedEngine({ firstTokenMs: 5, interTokenMs: 1, promptTokens: 20 })
  t.after(() => engine.close())
  const config = parseConfig({
    upstream: engine.url,
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    gpu: { enabled: false },
    contextClasses: { mediumFromTokens: 1000, longFromTokens: 3000 },
  })
  const service = await startProxyService(config)
  t.after(() => service.close())
  const traffic = await sendDemoTraffic(service.proxyUrl, 'qwen3-4b-instruct-2507', {
    mediumTokens: 1500,
    longTokens: 3500,
  })
  assert.deepEqual(traffic.statuses, [200, 200, 200, 200, 200, 200, 200, 200, 400])
  await service.settled(30_000)
  const summary = await renderMetricsSummary(service.registry)
  assert.match(summary, /^requests metered +9 \(chat 7, text_completion 2\)$/m)
  assert.match(summary, /^by error_type +\(ok\) 8, 400 1$/m)
  assert.match(summary, /^TTFT p50 \/ p95 +\d+(\.\d+)? ms \/ \d+(\.\d+)? ms$/m)
})
