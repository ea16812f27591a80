// The proxy service in front of the REAL llama.cpp server (llama-server b4748, `-c 8192 -np 2`,
// its default HTTP threads: 4 on 2 cores): the engine facts it exports are the server's, its
// health probe says up, and its refreshes leave the engine free for its own clients.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { parseConfig } from '../config/index.js'
import { timedGet } from '../testing/index.js'
import {
  LLAMACPP_SKIP,
  type LlamaServer,
  llamaServerFiles,
  startLlamaServer,
} from '../testing/llamacpp.js'
import { startProxyService } from './index.js'

const skip = llamaServerFiles() ? false : LLAMACPP_SKIP

describe('proxy service in front of the real llama.cpp server', { skip }, () => {
  let llama: LlamaServer
  before(async () => {
    llama = await startLlamaServer()
  })
  after(() => llama?.close())

  test('upstream up, engine info from /props, and /health straight to llama.cpp stays fast', async (t) => {
    const config = parseConfig({
      upstream: llama.url,
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      gpu: { enabled: false },
      proxy: { modelsRefreshMs: 50, healthIntervalMs: 50 },
    })
    const service = await startProxyService(config)
    t.after(() => service.close())
    const metrics = async () => (await fetch(`${service.adminUrl}/metrics`)).text()
    const text = await metrics()
    assert.match(text, /^inferwatch_upstream_up\{upstream="http:\/\/127\.0\.0\.1:\d+"\} 1$/m)
    assert.match(
      text,
      /^inferwatch_engine_info\{engine="llamacpp",version="b4748-[0-9a-f]+",model="tiny-qwen2",max_model_len="4096"\} 1$/m,
    )
    assert.equal((await fetch(`${service.adminUrl}/readyz`)).status, 200)

    // About 30 refreshes and 30 health probes meanwhile.
    const latencies: number[] = []
    const until = Date.now() + 1500
    while (Date.now() < until) {
      latencies.push(await timedGet(`${llama.url}/health`))
      await new Promise((r) => setTimeout(r, 10))
    }
    const worst = Math.max(...latencies)
    t.diagnostic(`other client: ${latencies.length} GET /health, worst ${Math.round(worst)} ms`)
    assert.ok(worst < 1000, `another client waited ${Math.round(worst)} ms`)
    const later = await metrics()
    assert.match(later, /^inferwatch_upstream_up\{.*\} 1$/m)
    assert.match(later, /^inferwatch_engine_info\{engine="llamacpp",.*max_model_len="4096"\} 1$/m)
  })
})
