// doctor against the REAL llama.cpp server (llama-server b4748, `-c 8192 -np 2`, its default HTTP
// threads: 4 on 2 cores): a healthy engine passes every engine check.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  LLAMACPP_SKIP,
  type LlamaServer,
  llamaServerFiles,
  startLlamaServer,
} from '../testing/llamacpp.js'
import { runDoctor } from './run-doctor.js'

const skip = llamaServerFiles() ? false : LLAMACPP_SKIP

describe('doctor on the real llama.cpp server', { skip }, () => {
  let llama: LlamaServer
  before(async () => {
    llama = await startLlamaServer()
  })
  after(() => llama?.close())

  test("engine checks pass with the default 3 s timeout; the facts are the server's", async () => {
    for (let run = 0; run < 3; run++) {
      const report = await runDoctor({ upstream: llama.url })
      for (const id of [
        'engine.answers',
        'engine.identified',
        'engine.metrics',
        'engine.completion',
      ]) {
        const c = report.checks.find((x) => x.id === id)
        assert.equal(c?.status, 'pass', `run ${run}, ${id}: ${c?.finding}`)
      }
      const identified = report.checks.find((x) => x.id === 'engine.identified')
      assert.match(
        identified?.finding ?? '',
        /^llama\.cpp b4748-[0-9a-f]+; model tiny-qwen2; max context 4096 tokens$/,
      )
      assert.equal(report.engine?.maxModelLen, 4096)
    }
  })
})
