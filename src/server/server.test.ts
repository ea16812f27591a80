import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseConfig } from '../config/index.js'
import type { Meter, Provider } from '../meter/index.js'
import { startScriptedEngine } from '../sim/index.js'
import { startProxyService } from './index.js'

function modelsMeter(): Meter & { served: { models: readonly string[]; provider: Provider }[] } {
  const served: { models: readonly string[]; provider: Provider }[] = []
  return {
    served,
    observe: () => undefined,
    setServedModels(models, provider) {
      served.push({ models, provider })
    },
    async close() {},
  }
}

test('the service wires registry, probes, discovery, proxy and admin; /readyz follows the engine', async (t) => {
  const engine = await startScriptedEngine({
    servedModels: ['qwen3-4b-instruct-2507'],
    maxModelLen: 32768,
  })
  t.after(() => engine.close())
  const base = new URL(engine.url)
  const config = parseConfig({
    // Credentials in the URL must never reach a label.
    upstream: `http://user:pa55word@${base.host}`,
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    gpu: { enabled: true, nvidiaSmiPath: '/nonexistent/nvidia-smi', intervalMs: 60_000 },
  })
  const meter = modelsMeter()
  const service = await startProxyService(config, { meter, version: '9.9.9' })
  t.after(() => service.close())

  assert.deepEqual(meter.served.at(-1), { models: ['qwen3-4b-instruct-2507'], provider: 'vllm' })
  const res = await fetch(`${service.proxyUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'qwen3-4b-instruct-2507',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 2,
    }),
  })
  assert.equal(res.status, 200)
  const reply = (await res.json()) as { choices: unknown[] }
  assert.ok(Array.isArray(reply.choices))

  const metrics = await (await fetch(`${service.adminUrl}/metrics`)).text()
  assert.match(metrics, /^inferwatch_build_info\{version="9\.9\.9"\} 1$/m)
  assert.match(
    metrics,
    /^inferwatch_upstream_up\{upstream="http:\/\/\*\*\*@127\.0\.0\.1:\d+"\} 1$/m,
  )
  assert.doesNotMatch(metrics, /pa55word/)
  assert.match(
    metrics,
    /^inferwatch_engine_info\{engine="vllm",.*model="qwen3-4b-instruct-2507".*\} 1$/m,
  )
  assert.match(metrics, /^inferwatch_proxy_overhead_seconds_count 1$/m)
  assert.match(metrics, /^inferwatch_gpu_collector_up 0$/m)
  assert.equal((await fetch(`${service.adminUrl}/readyz`)).status, 200)

  engine.set({ healthStatus: 503 })
  const notReady = await fetch(`${service.adminUrl}/readyz`)
  assert.equal(notReady.status, 503)
  assert.match(await notReady.text(), /HTTP 503/)
  assert.match(
    await (await fetch(`${service.adminUrl}/metrics`)).text(),
    /^inferwatch_upstream_up\{.*\} 0$/m,
  )

  await engine.close()
  const gone = await fetch(`${service.adminUrl}/readyz`)
  assert.equal(gone.status, 503)
  assert.match(await gone.text(), /refused/)
  const bad = await fetch(`${service.proxyUrl}/v1/models`)
  assert.equal(bad.status, 502)
})

test('the admin token from the config guards /metrics; a taken port fails cleanly', async (t) => {
  const engine = await startScriptedEngine()
  t.after(() => engine.close())
  const config = parseConfig({
    upstream: engine.url,
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    adminToken: 'tok',
    gpu: { enabled: false },
  })
  const service = await startProxyService(config, { meter: modelsMeter() })
  t.after(() => service.close())
  assert.equal((await fetch(`${service.adminUrl}/metrics`)).status, 401)
  assert.equal((await fetch(`${service.adminUrl}/healthz`)).status, 200)
  const ok = await fetch(`${service.adminUrl}/metrics`, {
    headers: { authorization: 'Bearer tok' },
  })
  assert.equal(ok.status, 200)

  const clash = parseConfig({
    upstream: engine.url,
    listen: `127.0.0.1:${service.proxy.port}`,
    admin: '127.0.0.1:0',
    gpu: { enabled: false },
  })
  await assert.rejects(startProxyService(clash, { meter: modelsMeter() }), {
    code: 'PROXY_LISTEN_FAILED',
  })
})

test('close() drains an in-flight stream while /metrics stays up, then stops everything', async (t) => {
  // promptTokens given: the engine must not load its tokenizer (seconds under load) mid-drain.
  const engine = await startScriptedEngine({
    firstTokenMs: 20,
    interTokenMs: 40,
    outputTokens: 8,
    promptTokens: 9,
  })
  t.after(() => engine.close())
  const config = parseConfig({
    upstream: engine.url,
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    gpu: { enabled: false },
    proxy: { drainTimeoutMs: 20_000 },
  })
  const service = await startProxyService(config, { meter: modelsMeter() })
  const stream = fetch(`${service.proxyUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'qwen3-4b-instruct-2507',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      max_tokens: 8,
    }),
  }).then((r) => r.text())
  while (service.proxy.inFlight() === 0) await new Promise((r) => setTimeout(r, 5))
  const closing = service.close()
  const during = await fetch(`${service.adminUrl}/metrics`)
  assert.equal(during.status, 200, '/metrics is served while draining')
  await during.text()
  const text = await stream
  assert.match(text, /data: \[DONE\]\n\n$/)
  await closing
  await assert.rejects(fetch(`${service.adminUrl}/healthz`))
  await assert.rejects(fetch(`${service.proxyUrl}/v1/models`))
})
