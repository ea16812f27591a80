import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { main } from '../cli/index.js'
import { captureIo } from '../testing/cli-io.js'
import { assertGolden, findBinary } from '../testing/index.js'
import { INSTALL_COMMAND, processStartTicks, requireStackBinary } from './index.js'

// `inferwatch up` refusing to start, each time before anything runs, with the fix in the hint.

const skip =
  findBinary('prometheus') && findBinary('prometheus-alertmanager')
    ? false
    : 'needs prometheus and prometheus-alertmanager (make test installs them)'

const tmp = () => mkdtempSync(join(tmpdir(), 'iw-up-'))

async function up(argv: string[], env: Record<string, string> = {}) {
  const c = captureIo(new AbortController().signal, tmp())
  c.io.env = { PATH: process.env.PATH ?? '', ...env }
  const code = await main(['up', ...argv], c.io)
  return { code, out: c.out.join(''), err: c.err.join('') }
}

async function occupy(): Promise<{ server: Server; port: number }> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const address = server.address()
  return { server, port: typeof address === 'object' && address ? address.port : 0 }
}

test('`inferwatch up --help` matches the golden file', async () => {
  const c = captureIo()
  assert.equal(await main(['up', '--help'], c.io), 0)
  assertGolden('cli', 'up-help.txt', c.out.join(''))
})

test('a missing Prometheus gives STACK_BINARY_MISSING with the install command', async () => {
  const empty = tmp()
  const config = join(empty, 'inferwatch.yaml')
  writeFileSync(config, `up:\n  prometheusPath: ${join(empty, 'prometheus')}\n`)
  const r = await up(['--config', config, '--data-dir', join(empty, 'data')], { PATH: empty })
  assert.equal(r.code, 1, r.err)
  assert.match(r.err, /error\[STACK_BINARY_MISSING\]: .*prometheus.* is not an executable/)
  assert.ok(r.err.includes(`hint: fix up.prometheusPath`), r.err)
  assert.ok(r.err.includes(INSTALL_COMMAND), r.err)
  // Searching: an empty PATH still finds Debian's /usr/bin binaries, a made-up name nothing.
  assert.throws(
    () => requireStackBinary('alertmanager', { path: empty, explicit: join(empty, 'am') }),
    (err: Error & { code?: string; hint?: string }) =>
      err.code === 'STACK_BINARY_MISSING' &&
      (err.hint ?? '').includes('sudo apt-get install prometheus prometheus-alertmanager'),
  )
})

test('a taken port gives STACK_PORT_IN_USE naming the flag and key that move it', {
  skip,
}, async () => {
  const { server, port } = await occupy()
  try {
    const dir = tmp()
    const free = ['--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0']
    const r = await up([
      ...free,
      '--data-dir',
      dir,
      '--prometheus-listen',
      `127.0.0.1:${port}`,
      '--alertmanager-listen',
      '127.0.0.1:0',
    ])
    assert.equal(r.code, 1, r.err)
    assert.match(
      r.err,
      new RegExp(
        `error\\[STACK_PORT_IN_USE\\]: Prometheus cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`,
      ),
    )
    assert.match(r.err, /hint: .*--prometheus-listen H:P or `up\.prometheusListen`.*port 0/)
    const proxy = await up([
      '--listen',
      `127.0.0.1:${port}`,
      '--admin',
      '127.0.0.1:0',
      '--data-dir',
      dir,
      '--prometheus-listen',
      '127.0.0.1:0',
      '--alertmanager-listen',
      '127.0.0.1:0',
    ])
    assert.match(proxy.err, /error\[STACK_PORT_IN_USE\]: the proxy cannot listen/)
    assert.match(proxy.err, /--listen H:P or `listen`/)
  } finally {
    server.close()
  }
})

test('a live `up` owning the data dir gives STACK_ALREADY_RUNNING', {
  skip,
}, async () => {
  const dir = tmp()
  const holder = spawn('sleep', ['30'], { stdio: 'ignore' })
  try {
    const pid = holder.pid ?? 0
    await new Promise((r) => setTimeout(r, 50))
    writeFileSync(
      join(dir, 'up.pid'),
      JSON.stringify({ pid, startTicks: processStartTicks(pid), marks: [] }),
    )
    const r = await up(['--data-dir', dir, '--listen', '127.0.0.1:0'])
    assert.equal(r.code, 1, r.err)
    assert.match(
      r.err,
      new RegExp(`STACK_ALREADY_RUNNING\\]: inferwatch up \\(pid ${pid}\\) is already running`),
    )
    assert.match(r.err, new RegExp(`kill ${pid}`))
  } finally {
    holder.kill('SIGKILL')
  }
})

test('--demo and --upstream together are a usage error', async () => {
  const r = await up(['--demo', '--upstream', 'http://127.0.0.1:8000'])
  assert.equal(r.code, 2)
  assert.match(r.err, /error\[USAGE\]: --demo and --upstream exclude each other/)
  const phases = await up(['--demo', '--phases', 'steady,party'])
  assert.match(phases.err, /--phases takes steady, burst, squeeze, leak, crash; got "steady,party"/)
  const speed = await up(['--speed', '10'])
  assert.equal(speed.code, 2)
  assert.match(speed.err, /--speed applies to --demo only/)
})
