import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { z } from 'zod'
import { main } from '../cli/index.js'
import { captureIo as io } from '../testing/cli-io.js'
import { startFakeEngine, vllmRoutes } from '../testing/fake-engines.js'
import { assertGolden, REPO_ROOT } from '../testing/index.js'

const reportSchema = z.object({
  ok: z.boolean(),
  checks: z.array(
    z.object({
      id: z.string(),
      status: z.enum(['pass', 'warn', 'fail', 'skip']),
      finding: z.string(),
    }),
  ),
  engine: z.object({ provider: z.string(), models: z.array(z.string()) }),
})

test('`inferwatch doctor --help` matches the golden file', async () => {
  const { out, io: cio } = io()
  assert.equal(await main(['doctor', '--help'], cio), 0)
  assertGolden('doctor', 'doctor-help.txt', out.join(''))
})

test('doctor --json on a healthy engine: exit 0, parseable report; --config thresholds are used', async (t) => {
  const engine = await startFakeEngine(
    vllmRoutes({
      maxModelLen: 65536,
      metrics:
        'vllm:cache_config_info{block_size="16",gpu_memory_utilization="0.9",num_gpu_blocks="6108"} 1\n',
    }),
  )
  t.after(() => engine.close())
  const dir = mkdtempSync(join(tmpdir(), 'iw-doctor-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const config = join(dir, 'inferwatch.yaml')
  // gpu.enabled false: the result must not depend on whether this host has nvidia-smi.
  writeFileSync(
    config,
    `upstream: ${engine.url}\ngpu: { enabled: false }\nalerts: { gpuMemoryHigh: { ratio: 0.97 } }\n`,
  )
  const { out, io: cio } = io()
  // --prometheus overrides the config's URL; pointing it at the engine (not a Prometheus) must fail.
  const code = await main(['doctor', '--config', config, '--prometheus', engine.url, '--json'], cio)
  const report = reportSchema.parse(JSON.parse(out.join('')))
  assert.equal(report.engine.provider, 'vllm')
  const byId = new Map(report.checks.map((c) => [c.id, c]))
  assert.equal(byId.get('gpu.memory-threshold')?.status, 'pass')
  assert.match(byId.get('gpu.memory-threshold')?.finding ?? '', /fires above 97% \(config/)
  assert.equal(byId.get('gpu.visible')?.status, 'skip')
  // The engine is no Prometheus: that check fails, so the exit status is 1.
  assert.equal(byId.get('prometheus.up')?.status, 'fail')
  assert.equal(report.ok, false)
  assert.equal(code, 1)
})

test('doctor on a healthy engine alone exits 0 and prints the checklist', async (t) => {
  const engine = await startFakeEngine(vllmRoutes({ maxModelLen: 65536 }))
  t.after(() => engine.close())
  const { out, io: cio } = io()
  const code = await main(
    ['doctor', '--upstream', engine.url, '--nvidia-smi', '/nonexistent/nvidia-smi'],
    cio,
  )
  const text = out.join('')
  assert.equal(code, 0, text)
  assert.match(
    text,
    /^✓ engine identified +vLLM 0\.10\.0; model qwen3-4b-instruct-2507; max context 65536 tokens$/m,
  )
  assert.match(text, /^! GPUs visible \(nvidia-smi\) +.*nvidia-smi/m)
  assert.match(text, /^- Prometheus up +no --prometheus URL given$/m)
})

test('doctor --engine-log names the start failure under the refused connection', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iw-doctor-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const log = join(dir, 'vllm.log')
  writeFileSync(
    log,
    "INFO loading\nValueError: The model's max seq len (262144) is larger than the maximum number of tokens that can be stored in KV cache (93424).\n",
  )
  const { out, io: cio } = io()
  const engine = await startFakeEngine({})
  const url = engine.url
  await engine.close() // nothing listens there any more: connection refused
  const code = await main(
    ['doctor', '--upstream', url, '--engine-log', log, '--nvidia-smi', '/nonexistent'],
    cio,
  )
  assert.equal(code, 1)
  const text = out.join('')
  assert.match(text, /^✗ engine answers and is healthy .*connection refused/m)
  assert.match(
    text,
    /^✗ engine log has no start failure +.*vllm\.log: max_model_len larger than the KV cache: ValueError/m,
  )
  assert.match(text, /fix: lower --max-model-len/)
})

test('doctor on a real H200 capture (nvidia-smi stand-in): GPU listed, KV estimated by plan', async (t) => {
  const csv = readFileSync(join(REPO_ROOT, 'src/gpu/testdata/h200-load-query-gpu.csv'), 'utf8')
  const dir = mkdtempSync(join(tmpdir(), 'iw-doctor-smi-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'gpu.csv'), csv)
  const smi = join(dir, 'nvidia-smi')
  writeFileSync(
    smi,
    `#!/bin/sh\ncase "$1" in --query-gpu=*) cat "${join(dir, 'gpu.csv')}" ;; *) exit 2 ;; esac\n`,
  )
  chmodSync(smi, 0o755)
  // vLLM without cache_config_info: the KV check falls back to the plan estimate for the card.
  const engine = await startFakeEngine(
    vllmRoutes({ maxModelLen: 262144, metrics: 'vllm:num_requests_running 0\n' }),
  )
  t.after(() => engine.close())
  const { out, io: cio } = io()
  const code = await main(['doctor', '--upstream', engine.url, '--nvidia-smi', smi], cio)
  const text = out.join('')
  assert.equal(code, 0, text)
  assert.match(
    text,
    /^✓ GPUs visible \(nvidia-smi\) +GPU 0 NVIDIA H200: 101\.0 of 140\.4 GiB used$/m,
  )
  assert.match(
    text,
    /^✓ KV cache fits max context +\d+ KV tokens \(plan estimate: qwen3-4b-instruct-2507 on NVIDIA H200 \(140\.4 GiB\) at gpu_memory_utilization 0\.9\) vs max context 262144: [3-9] max-length request\(s\) fit at once$/m,
  )
  // Default config: gpu_memory_utilization 0.9 assumed (not reported), below the 92 % alert: no
  // warning.
  assert.match(text, /^✓ GPU-memory alert threshold /m)
})

test('doctor usage errors exit 2', async () => {
  const { err, io: cio } = io()
  assert.equal(await main(['doctor', '--upstream', 'not a url'], cio), 2)
  assert.match(err.join(''), /error\[USAGE\]: --upstream must be an http\(s\) URL/)
  const second = io()
  assert.equal(await main(['doctor', '--timeout', '-5'], second.io), 2)
})
