import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { runCli as run } from '../testing/cli-io.js'
import { assertGolden } from '../testing/index.js'

test('inferwatch rules writes the files, says what it wrote and how to reload', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iw-rules-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const r = await run(
    [
      'rules',
      '--out',
      'mon',
      '--engine',
      'sglang',
      '--lang',
      'en',
      '--upstream',
      'http://127.0.0.1:30000',
    ],
    dir,
  )
  assert.equal(r.code, 0, r.err)
  assert.match(r.out, /Wrote 8 files to mon:\n {2}mon\/prometheus\.yml\n/)
  assert.match(r.out, /curl -X POST http:\/\/127\.0\.0\.1:9090\/-\/reload/)
  assert.doesNotMatch(r.out, /killall/)
  assert.match(r.out, /Note: SGLang serves \/metrics only when started with --enable-metrics/)
  assert.equal(r.err, '')
  const prom = parse(readFileSync(join(dir, 'mon/prometheus.yml'), 'utf8')) as {
    scrape_configs: {
      job_name: string
      static_configs: { targets: string[]; labels?: Record<string, string> }[]
    }[]
  }
  const sglang = prom.scrape_configs.find((s) => s.job_name === 'sglang')
  assert.deepEqual(sglang?.static_configs[0], {
    targets: ['127.0.0.1:30000'],
    labels: { engine: 'sglang' },
  })
  assert.match(
    readFileSync(join(dir, 'mon/rules/inferwatch.rules.yml'), 'utf8'),
    /summary: "?KV cache usage high/,
  )
})

test('inferwatch rules warns about the GPU threshold at vLLM pre-allocation; config file thresholds', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iw-rules-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'vllm-default.yaml'), 'gpuMemoryUtilization: 0.92\n')
  const warned = await run(['rules', '--out', join(dir, 'a'), '--config', 'vllm-default.yaml'], dir)
  assert.equal(warned.code, 0)
  assert.match(warned.err, /^warning: LLMGPUMemoryHigh .*0\.92.*fire all the time/m)
  writeFileSync(
    join(dir, 'inferwatch.yaml'),
    'gpuMemoryUtilization: 0.85\nalerts:\n  kvCacheHigh: { ratio: 0.9 }\n',
  )
  const quiet = await run(['rules', '--out', join(dir, 'b'), '--config', 'inferwatch.yaml'], dir)
  assert.equal(quiet.code, 0, quiet.err)
  assert.equal(quiet.err, '')
  assert.match(
    readFileSync(join(dir, 'b/rules/inferwatch.rules.yml'), 'utf8'),
    /expr: llm:kv_cache_usage:ratio > 0\.9\n/,
  )
})

test('inferwatch rules warns when a non-vLLM engine would be scraped on the default vLLM port', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iw-rules-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const r = await run(['rules', '--out', 'mon', '--engine', 'llamacpp'], dir)
  assert.equal(r.code, 0, r.err)
  assert.match(
    r.err,
    /^warning: prometheus\.yml scrapes llamacpp at 127\.0\.0\.1:8000, .*pass --upstream http:\/\/127\.0\.0\.1:8080 /m,
  )
  const vllm = await run(['rules', '--out', 'mon2'], dir)
  assert.equal(vllm.code, 0, vllm.err)
  assert.equal(vllm.err, '')
})

test('inferwatch rules: usage, config and output errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iw-rules-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const noOut = await run(['rules'], dir)
  assert.equal(noOut.code, 2)
  assert.match(noOut.err, /error\[USAGE\]: rules needs --out DIR/)
  const badEngine = await run(['rules', '--out', 'x', '--engine', 'ollama'], dir)
  assert.equal(badEngine.code, 2)
  assert.match(badEngine.err, /--engine must be one of vllm, tgi, sglang, llamacpp/)
  writeFileSync(join(dir, 'bad.yaml'), 'alerts:\n  gpuMemoryHigh: { ratio: 92 }\n')
  const badConfig = await run(['rules', '--out', 'x', '--config', 'bad.yaml'], dir)
  assert.equal(badConfig.code, 2)
  assert.match(badConfig.err, /error\[CONFIG_INVALID\]: .*alerts\.gpuMemoryHigh\.ratio/)
  writeFileSync(join(dir, 'file'), '')
  const badOut = await run(['rules', '--out', 'file'], dir)
  assert.equal(badOut.code, 1)
  assert.match(badOut.err, /error\[RULES_OUT_DIR\]: cannot write .*file\/prometheus\.yml/)
})

test('inferwatch rules --help is pinned (UPDATE_GOLDEN=1 rewrites it)', async () => {
  const r = await run(['rules', '--help'], tmpdir())
  assert.equal(r.code, 0)
  assertGolden('rules', 'rules-help.txt', r.out)
  assert.match(r.out, /--out DIR/)
  assert.match(r.out, /-\/reload/)
})
