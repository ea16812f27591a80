// Discovery against the REAL llama.cpp server (llama-server b4748, `-c 8192 -np 2`, its default
// HTTP threads: 4 on 2 cores), which serves one connection per HTTP thread and keeps idle
// keep-alive connections 5 s.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { timedGet } from '../testing/index.js'
import {
  LLAMACPP_SKIP,
  type LlamaServer,
  llamaServerFiles,
  startLlamaServer,
} from '../testing/llamacpp.js'
import { discoverEngine, refreshEngineModels } from './index.js'

const skip = llamaServerFiles() ? false : LLAMACPP_SKIP

describe('discovery of the real llama.cpp server', { skip }, () => {
  let llama: LlamaServer
  before(async () => {
    llama = await startLlamaServer()
  })
  after(() => llama?.close())

  test('facts from /props: 4096 tokens per slot (not the 32768 training context), the build', async () => {
    const info = await discoverEngine(llama.url)
    assert.equal(info.provider, 'llamacpp')
    assert.equal(info.identified, true)
    assert.deepEqual(info.models, ['tiny-qwen2'])
    assert.equal(info.maxModelLen, 4096)
    assert.match(info.version ?? '', /^b4748-[0-9a-f]+$/)
    assert.match(info.modelPath ?? '', /tiny-qwen2\.gguf$/)
    assert.equal(info.metrics.served, true, info.metrics.detail)
    assert.deepEqual(info.metrics.prefixes, ['llamacpp:'])
    assert.equal(info.health.status, 'ok')
    assert.deepEqual(await refreshEngineModels(info), { status: 'same' })
  })

  test('another client is answered fast while discovery runs again and again', async (t) => {
    let done = false
    const discoveries = (async () => {
      for (let i = 0; i < 10; i++) {
        const info = await discoverEngine(llama.url)
        assert.equal(info.maxModelLen, 4096, `discovery ${i}`)
        assert.equal(info.metrics.served, true, `discovery ${i}: ${info.metrics.detail}`)
      }
    })().finally(() => {
      done = true
    })
    const latencies: number[] = []
    while (!done) latencies.push(await timedGet(`${llama.url}/health`))
    await discoveries
    const worst = Math.max(...latencies)
    t.diagnostic(`other client: ${latencies.length} GET /health, worst ${Math.round(worst)} ms`)
    assert.ok(worst < 1000, `another client waited ${Math.round(worst)} ms`)
  })
})
