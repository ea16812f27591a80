import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli as run } from '../testing/cli-io.js'
import { assertGolden } from '../testing/index.js'

test('plan --help and the default table are pinned', async () => {
  const help = await run(['plan', '--help'])
  assert.equal(help.code, 0)
  assertGolden('plan', 'plan-help.txt', help.out)
  const table = await run(['plan'])
  assert.equal(table.code, 0)
  assert.match(table.out, /KV per token +144 KiB/)
  assert.match(table.out, /max_model_len 262144 +does NOT fit: one request needs 36\.00 GiB/)
  assertGolden('plan', 'plan-default.txt', table.out)
})

test('plan --json, usage errors and unknown profiles', async () => {
  const j = await run(['plan', '--json', '--kv-cache-dtype', 'fp8', '--max-model-len', '65536'])
  assert.equal(j.code, 0)
  const r = JSON.parse(j.out)
  assert.equal(r.kvBytesPerToken, 73_728)
  assert.equal(r.maxModelLenFits, true)
  assert.deepEqual(r.vllmArgs.slice(-2), ['--kv-cache-dtype', 'fp8'])
  const bad = await run(['plan', '--kv-cache-dtype', 'int4'])
  assert.equal(bad.code, 2)
  assert.match(bad.err, /^error\[USAGE\]: --kv-cache-dtype must be auto or fp8/)
  const model = await run(['plan', '--model', 'gpt-5'])
  assert.equal(model.code, 2)
  assert.match(
    model.err,
    /^error\[PLAN_UNKNOWN_MODEL\].*\nhint: use one of qwen3-4b-instruct-2507, /,
  )
  const gpu = await run(['plan', '--gpu', 'tpu'])
  assert.equal(gpu.code, 2)
  assert.match(gpu.err, /^error\[PLAN_UNKNOWN_GPU\].*\nhint: use one of rtx-4090d, /)
  const num = await run(['plan', '--max-model-len', '12k'])
  assert.equal(num.code, 2)
})
