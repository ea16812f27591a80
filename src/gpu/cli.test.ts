import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { main } from '../cli/index.js'
import { captureIo as io } from '../testing/cli-io.js'
import { assertGolden, REPO_ROOT } from '../testing/index.js'
import { createStandIn } from '../testing/nvidia-smi-stand-in.js'

const TESTDATA = join(REPO_ROOT, 'src/gpu/testdata')

test('gpu --once prints a table per GPU with processes; --json the snapshot', async (t) => {
  const smi = await createStandIn({
    gpuOut: readFileSync(join(TESTDATA, 'two-gpus.csv'), 'utf8'),
    appsOut: readFileSync(join(TESTDATA, 'apps.csv'), 'utf8'),
  })
  t.after(() => smi.remove())
  const a = io()
  assert.equal(await main(['gpu', '--once', '--processes', '--nvidia-smi', smi.path], a.io), 0)
  assertGolden('gpu', 'gpu-once-processes.txt', a.out.join(''))
  const b = io()
  assert.equal(await main(['gpu', '--once', '--json', '--nvidia-smi', smi.path], b.io), 0)
  const snap = JSON.parse(b.out.join(''))
  assert.equal(snap.gpus.length, 2)
  assert.equal(snap.gpus[1].memoryUsedBytes, 1048576)
  assert.equal(snap.gpus[0].migEnabled, null)
})

test('gpu --help is pinned', async () => {
  const a = io()
  assert.equal(await main(['gpu', '--help'], a.io), 0)
  assertGolden('gpu', 'gpu-help.txt', a.out.join(''))
})

test('gpu: missing or failing nvidia-smi exits 1 with GPU_SMI_FAILED and a hint', async (t) => {
  const smi = await createStandIn({
    gpuOut: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
    gpuExit: 9,
  })
  t.after(() => smi.remove())
  const a = io()
  assert.equal(await main(['gpu', '--once', '--nvidia-smi', join(smi.dir, 'nope')], a.io), 1)
  assert.match(
    a.err.join(''),
    /^error\[GPU_SMI_FAILED\]: nvidia-smi not found: .*nope\nhint: install the NVIDIA driver/,
  )
  const b = io()
  assert.equal(await main(['gpu', '--once', '--nvidia-smi', smi.path], b.io), 1)
  assert.match(b.err.join(''), /exited with code 9: NVIDIA-SMI has failed/)
  const c = io()
  assert.equal(await main(['gpu', '--interval', '0'], c.io), 2)
})

test('gpu without --once refreshes every interval until aborted', async (t) => {
  const smi = await createStandIn({ gpuOut: readFileSync(join(TESTDATA, 'two-gpus.csv'), 'utf8') })
  t.after(() => smi.remove())
  const ac = new AbortController()
  const a = io(ac.signal)
  const run = main(['gpu', '--json', '--interval', '20', '--nvidia-smi', smi.path], a.io)
  const deadline = Date.now() + 5000
  while (a.out.filter((s) => s.startsWith('{')).length < 3 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10))
  ac.abort()
  assert.equal(await run, 0)
  const lines = a.out.filter((s) => s.startsWith('{'))
  assert.ok(lines.length >= 3)
  for (const l of lines) assert.equal(JSON.parse(l).gpus.length, 2)
})

test('gpu --config reads gpu.nvidiaSmiPath; a flag overrides it', async (t) => {
  const smi = await createStandIn({ gpuOut: readFileSync(join(TESTDATA, 'two-gpus.csv'), 'utf8') })
  t.after(() => smi.remove())
  const config = join(smi.dir, 'inferwatch.yaml')
  await writeFile(config, `gpu:\n  nvidiaSmiPath: ${smi.path}\n  timeoutMs: 3000\n`)
  const a = io()
  assert.equal(await main(['gpu', '--once', '--json', '--config', config], a.io), 0)
  assert.equal(JSON.parse(a.out.join('')).gpus.length, 2)
  const b = io()
  assert.equal(
    await main(
      ['gpu', '--once', '--config', config, '--nvidia-smi', join(smi.dir, 'missing')],
      b.io,
    ),
    1,
  )
  assert.match(b.err.join(''), /nvidia-smi not found: .*missing/)
})

/** Runs the built CLI as a user would (a real process), with the given PATH; never rejects. */
function runBin(args: string[], path: string): Promise<{ code: number; out: string; err: string }> {
  const bin = fileURLToPath(new URL('../cli/bin.js', import.meta.url))
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: path }, timeout: 20_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = typeof error?.code === 'number' ? error.code : error ? -1 : 0
        resolve({ code, out: stdout, err: stderr })
      },
    )
  })
}

test('the bin finds the stand-in nvidia-smi on PATH by default; exit 1 when PATH has none', async (t) => {
  const smi = await createStandIn({ gpuOut: readFileSync(join(TESTDATA, 'two-gpus.csv'), 'utf8') })
  t.after(() => smi.remove())
  const found = await runBin(
    ['gpu', '--once', '--json'],
    `${smi.dir}${delimiter}${process.env.PATH ?? ''}`,
  )
  assert.equal(found.code, 0, found.err)
  assert.equal(JSON.parse(found.out).gpus.length, 2)
  assert.match(readFileSync(join(smi.dir, 'calls.log'), 'utf8'), /^--query-gpu=index,uuid,/)
  const missing = await runBin(['gpu', '--once'], join(smi.dir, 'no-such-dir'))
  assert.equal(missing.code, 1)
  assert.equal(missing.out, '')
  assert.match(missing.err, /^error\[GPU_SMI_FAILED\]: nvidia-smi not found: nvidia-smi\nhint: /)
})
