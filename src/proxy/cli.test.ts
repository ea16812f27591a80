import assert from 'node:assert/strict'
import { test } from 'node:test'
import { main } from '../cli/index.js'
import { startScriptedEngine } from '../sim/index.js'
import { captureIo as io } from '../testing/cli-io.js'
import { assertGolden } from '../testing/index.js'

test('`inferwatch proxy --help` matches the golden file', async () => {
  const { out, io: cio } = io()
  assert.equal(await main(['proxy', '--help'], cio), 0)
  assertGolden('proxy', 'proxy-help.txt', out.join(''))
})

test('`inferwatch proxy` prints where it listens, forwards, and exits 0 on the signal', async (t) => {
  const engine = await startScriptedEngine({ firstTokenMs: 1, interTokenMs: 1 })
  t.after(() => engine.close())
  const controller = new AbortController()
  const { out, io: cio } = io(controller.signal)
  cio.env = { INFERWATCH_ADMIN_TOKEN: 'tok' } as Record<string, string>
  const running = main(
    [
      'proxy',
      '--upstream',
      engine.url,
      '--listen',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      '--upstream-timeout',
      '5000',
    ],
    cio,
  )
  const deadline = Date.now() + 5000
  while (out.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  const line = out.join('')
  const m =
    /^inferwatch proxy listening on (http:\/\/127\.0\.0\.1:\d+) -> (\S+); metrics at (http:\/\/127\.0\.0\.1:\d+)\/metrics\n$/.exec(
      line,
    )
  assert.ok(m, line)
  assert.equal(m[2], engine.url)
  const models = await fetch(`${m[1]}/v1/models`)
  assert.equal(models.status, 200)
  assert.match(await models.text(), /qwen3-4b-instruct-2507/)
  assert.equal((await fetch(`${m[3]}/metrics`)).status, 401, 'the env token guards /metrics')
  controller.abort()
  assert.equal(await running, 0)
  await assert.rejects(fetch(`${m[1]}/v1/models`))
})

test('bad flags are clear errors with codes', async () => {
  for (const [argv, code, exit] of [
    [['proxy', '--upstream', 'localhost:8000'], 'UPSTREAM_URL_INVALID', 2],
    [['proxy', '--upstream', 'http://127.0.0.1:1', '--upstream-timeout', 'soon'], 'USAGE', 2],
    [['proxy', '--upstream', 'http://127.0.0.1:1', '--listen', 'nope'], 'USAGE', 2],
  ] as const) {
    const { err, io: cio } = io()
    assert.equal(await main([...argv], cio), exit, argv.join(' '))
    assert.match(err.join(''), new RegExp(`^error\\[${code}\\]: .+\\nhint: .+`), argv.join(' '))
  }
})
