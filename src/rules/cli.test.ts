import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { main } from '../cli/index.js'
import { REPO_ROOT } from '../testing/index.js'

async function run(argv: string[], cwd: string) {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, {
    stdout: (s) => {
      stdout += s
    },
    stderr: (s) => {
      stderr += s
    },
    env: {},
    cwd,
    signal: new AbortController().signal,
  })
  return { code, stdout, stderr }
}

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
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /Wrote 8 files to mon:\n {2}mon\/prometheus\.yml\n/)
  assert.match(r.stdout, /curl -X POST http:\/\/127\.0\.0\.1:9090\/-\/reload/)
  assert.doesNotMatch(r.stdout, /killall/)
  assert.match(r.stdout, /Note: SGLang serves \/metrics only when started with --enable-metrics/)
  assert.equal(r.stderr, '')
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
  assert.match(warned.stderr, /^warning: LLMGPUMemoryHigh .*0\.92.*fire all the time/m)
  writeFileSync(
    join(dir, 'inferwatch.yaml'),
    'gpuMemoryUtilization: 0.85\nalerts:\n  kvCacheHigh: { ratio: 0.9 }\n',
  )
  const quiet = await run(['rules', '--out', join(dir, 'b'), '--config', 'inferwatch.yaml'], dir)
  assert.equal(quiet.code, 0, quiet.stderr)
  assert.equal(quiet.stderr, '')
  assert.match(
    readFileSync(join(dir, 'b/rules/inferwatch.rules.yml'), 'utf8'),
    /expr: llm:kv_cache_usage:ratio > 0\.9\n/,
  )
})

test('inferwatch rules: usage, config and output errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iw-rules-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const noOut = await run(['rules'], dir)
  assert.equal(noOut.code, 2)
  assert.match(noOut.stderr, /error\[USAGE\]: rules needs --out DIR/)
  const badEngine = await run(['rules', '--out', 'x', '--engine', 'ollama'], dir)
  assert.equal(badEngine.code, 2)
  assert.match(badEngine.stderr, /--engine must be one of vllm, tgi, sglang, llamacpp/)
  writeFileSync(join(dir, 'bad.yaml'), 'alerts:\n  gpuMemoryHigh: { ratio: 92 }\n')
  const badConfig = await run(['rules', '--out', 'x', '--config', 'bad.yaml'], dir)
  assert.equal(badConfig.code, 2)
  assert.match(badConfig.stderr, /error\[CONFIG_INVALID\]: .*alerts\.gpuMemoryHigh\.ratio/)
  writeFileSync(join(dir, 'file'), '')
  const badOut = await run(['rules', '--out', 'file'], dir)
  assert.equal(badOut.code, 1)
  assert.match(badOut.stderr, /error\[RULES_OUT_DIR\]: cannot write .*file\/prometheus\.yml/)
})

test('inferwatch rules --help is pinned (UPDATE_GOLDEN=1 rewrites it)', async () => {
  const r = await run(['rules', '--help'], tmpdir())
  assert.equal(r.code, 0)
  const golden = join(REPO_ROOT, 'src/rules/testdata/golden/rules-help.txt.golden')
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(golden)) writeFileSync(golden, r.stdout)
  assert.equal(r.stdout, readFileSync(golden, 'utf8'))
  assert.match(r.stdout, /--out DIR/)
  assert.match(r.stdout, /-\/reload/)
})
