import assert from 'node:assert/strict'
import { test } from 'node:test'
import { main } from '../cli/index.js'
import { captureIo as io } from '../testing/cli-io.js'
import { assertGolden } from '../testing/index.js'

test('`inferwatch bench --help` matches the golden file', async () => {
  const { out, io: cio } = io()
  assert.equal(await main(['bench', '--help'], cio), 0)
  assertGolden('cli', 'bench-help.txt', out.join(''))
})

test('`inferwatch bench` without --target, or with a bad flag value, is a usage error', async () => {
  for (const [argv, message] of [
    [['bench'], /error\[USAGE\]: --target is required/],
    [
      ['bench', '--target', 'http://127.0.0.1:1', '--model', 'm', '--endpoint', 'grpc'],
      /--endpoint must be one of chat, completions/,
    ],
    [
      ['bench', '--target', 'http://127.0.0.1:1', '--model', 'm', '--slo', 'ttft'],
      /--slo takes ttft=/,
    ],
    [
      ['bench', '--target', 'http://127.0.0.1:1', '--model', 'm', '--duration', 'soon'],
      /--duration must be a duration/,
    ],
    [['bench', 'compare', 'only-one.json'], /bench compare takes two result files/],
  ] as const) {
    const { err, io: cio } = io()
    assert.equal(await main(argv, cio), 2, argv.join(' '))
    assert.match(err.join(''), message)
  }
})
