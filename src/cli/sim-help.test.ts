import assert from 'node:assert/strict'
import { test } from 'node:test'
import { main } from '../cli/index.js'
import { captureIo as io } from '../testing/cli-io.js'
import { assertGolden } from '../testing/index.js'

test('`inferwatch sim --help` matches the golden file', async () => {
  const { out, io: cio } = io()
  assert.equal(await main(['sim', '--help'], cio), 0)
  assertGolden('cli', 'sim-help.txt', out.join(''))
})

test('`inferwatch sim` rejects an engine it does not simulate, naming the supported ones', async () => {
  const { err, io: cio } = io()
  assert.equal(await main(['sim', '--engine', 'triton'], cio), 2)
  assert.match(
    err.join(''),
    /error\[USAGE\]: --engine must be one of vllm, sglang, tgi, llamacpp, got "triton"/,
  )
})

test('`inferwatch sim` prints what it simulates, serves, and exits 0 on the signal', async () => {
  const controller = new AbortController()
  const { out, io: cio } = io(controller.signal)
  const running = main(['sim', '--listen', '127.0.0.1:0', '--speed', '100'], cio)
  let url: string | undefined
  for (let i = 0; i < 200 && !url; i++) {
    await new Promise((r) => setTimeout(r, 10))
    url = /listening on (http:\/\/\S+)/.exec(out.join(''))?.[1]
  }
  assert.ok(url, out.join(''))
  assert.match(
    out.join(''),
    /vLLM 0\.12\.0 serving qwen3-4b-instruct-2507 .* on a simulated NVIDIA GeForce RTX 4090 D/,
  )
  assert.match(out.join(''), /KV cache \d+ tokens, max_model_len \d+, max_num_seqs 256/)
  assert.equal((await fetch(`${url}/health`)).status, 200)
  controller.abort()
  assert.equal(await running, 0)
})
