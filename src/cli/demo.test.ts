import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli } from '../testing/cli-io.js'

// `make demo` runs `inferwatch demo`: the scripted engine, the proxy service, real traffic
// (long-context prompts included) and the summary a newcomer reads.
test('inferwatch demo --once meters every request, long context included, and exits 0', async () => {
  const { code, out, err } = await runCli(['demo', '--once'])
  assert.equal(code, 0, err)
  assert.match(out, /^proxy +http:\/\/127\.0\.0\.1:\d+$/m)
  assert.match(out, /^sent 9 requests, HTTP statuses: (200 ){8}400$/m)
  assert.match(out, /^requests metered +9 \(chat 7, text_completion 2\)$/m)
  assert.match(out, /^by context_class +.*\bmedium 1\b/m)
  assert.match(out, /^by context_class +.*\blong 1\b/m)
  assert.match(out, /^tokens +input \d{6}, output \d+$/m)
})
