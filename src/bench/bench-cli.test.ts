import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { main } from '../cli/index.js'
import { startScriptedEngine } from '../sim/index.js'
import { captureIo } from '../testing/cli-io.js'
import { REPO_ROOT } from '../testing/index.js'

// The command end to end: a run writes JSON (vllm bench serve keys) and an HTML report with its
// charts; `bench compare` renders the deltas; SIGINT to a real `inferwatch bench` process still
// writes the results so far.

const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'iw-bench-'))
  return dir
}

async function bench(argv: string[], cwd: string) {
  const { out, err, io } = captureIo(undefined, cwd)
  const code = await main(['bench', ...argv, '--quiet'], io)
  return { code, out: out.join(''), err: err.join('') }
}

test('a run writes vLLM-compatible JSON and a self-contained HTML report with charts; compare renders deltas', async (t) => {
  const dir = tmp()
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const engine = await startScriptedEngine({ firstTokenMs: 5, interTokenMs: 1, promptTokens: 64 })
  t.after(() => engine.close())
  const common = [
    '--target',
    engine.url,
    '--input-tokens',
    '64',
    '--output-tokens',
    '6',
    '--requests',
    '30',
    '--out',
    dir,
  ]
  const a = await bench([...common, '--concurrency', '2', '--name', 'a', '--slo', 'ttft=1s'], dir)
  assert.equal(a.code, 0, a.err)
  assert.match(a.out, /30 ok, 0 failed/)
  assert.match(a.out, /TTFT +30 /)
  engine.set({ firstTokenMs: 60 })
  const b = await bench(
    [...common, '--rate', '50', '--name', 'b', '--metrics', `${engine.url}/metrics`],
    dir,
  )
  assert.equal(b.code, 0, b.err)
  assert.match(b.out, /monitoring cross-check/)
  const json = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'))
  for (const key of [
    'completed',
    'failed',
    'total_input_tokens',
    'total_output_tokens',
    'request_throughput',
    'output_throughput',
    'mean_ttft_ms',
    'median_ttft_ms',
    'p99_ttft_ms',
    'mean_tpot_ms',
    'p99_tpot_ms',
    'mean_itl_ms',
    'mean_e2el_ms',
    'p99_e2el_ms',
  ])
    assert.equal(typeof json[key], 'number', key)
  assert.equal(json.completed, 30)
  assert.equal(json.input_lens.length, 30)
  assert.ok(json.input_lens.every((n: number) => n === 64))
  assert.ok(json.output_lens.every((n: number) => n === 6))
  assert.equal(json.ttfts.length, 30)
  assert.deepEqual(new Set(json.errors), new Set(['']))
  assert.equal(json.request_goodput, json.request_throughput)
  assert.equal(json.inferwatch.requests[0].chunk_ms.length, 6)
  const html = readFileSync(join(dir, 'b.html'), 'utf8')
  for (const title of ['TTFT CDF', 'TPOT CDF', 'ITL CDF', 'E2E CDF', 'TTFT over the run'])
    assert.ok(html.includes(`aria-label="${title}`), title)
  assert.ok((html.match(/<svg /g) ?? []).length >= 5)
  assert.ok(
    !/<script|https?:\/\/(?!www\.w3\.org)/.test(html.replaceAll(engine.url, '')),
    'self-contained',
  )

  const cmp = await bench(['compare', join(dir, 'a.json'), join(dir, 'b.json')], dir)
  assert.equal(cmp.code, 0, cmp.err)
  const row = cmp.out.split('\n').find((l) => l.startsWith('TTFT p50 (ms)'))
  assert.ok(row, cmp.out)
  const cells = row.split(/\s{2,}/)
  const [va, vb] = [Number(cells[1]), Number(cells[2])]
  assert.ok(vb > va + 20, row)
  assert.ok(cells[3]?.startsWith('+') && Math.abs(Number(cells[3]) - (vb - va)) < 1, row)
  assert.match(row, /worse$/)
  const page = readdirSync(dir).find((f) => f.startsWith('compare-a-vs-b'))
  assert.ok(page)
  const chtml = readFileSync(join(dir, page), 'utf8')
  assert.ok(
    chtml.includes('TTFT CDF') &&
      chtml.includes('data-series="A"') &&
      chtml.includes('data-series="B"'),
  )

  writeFileSync(join(dir, 'junk.json'), '{"hello": 1}')
  const bad = await bench(['compare', join(dir, 'a.json'), join(dir, 'junk.json')], dir)
  assert.equal(bad.code, 1)
  assert.match(bad.err, /BENCH_RESULT_INVALID/)
})

test('Ctrl-C (SIGINT) to a running `inferwatch bench` still writes the JSON of what was measured', async (t) => {
  const dir = tmp()
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const engine = await startScriptedEngine({ firstTokenMs: 20, interTokenMs: 5, promptTokens: 64 })
  t.after(() => engine.close())
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'dist/cli/bin.js'),
      'bench',
      '--target',
      engine.url,
      '--input-tokens',
      '64',
      '--output-tokens',
      '10',
      '--requests',
      '100000',
      '--concurrency',
      '4',
      '--out',
      dir,
      '--name',
      'cut',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let err = ''
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString()
  })
  let out = ''
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString()
  })
  for (let i = 0; i < 600 && !/\] done [1-9]/.test(err); i++)
    await new Promise((r) => setTimeout(r, 50))
  assert.match(err, /\] done [1-9]/, err)
  child.kill('SIGINT')
  const [code] = (await once(child, 'exit')) as [number]
  assert.equal(code, 0, err)
  const json = JSON.parse(readFileSync(join(dir, 'cut.json'), 'utf8'))
  assert.equal(json.stop_reason, 'interrupted')
  assert.ok(json.completed > 0 && json.completed < 100000)
  assert.equal(json.failed, 0, 'requests cut by Ctrl-C are not failures')
  assert.match(out, /JSON: .*cut\.json/)
})
