// Hostile inferwatch.yaml: mutations of a valid file (broken indentation and quotes, wrong types,
// anchors and aliases, tags, ${VAR}s, deep nesting, stray bytes). loadConfig gives a config or a
// CONFIG_* AppError naming the file, and the key where the schema says which; never a TypeError,
// a stack overflow or a silently ignored file.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import fc from 'fast-check'
import { isAppError } from '../shared/index.js'
import { deepJson, fuzz, mutatedText } from '../testing/fuzz.js'
import { loadConfig } from './index.js'

const VALID = `upstream: http://127.0.0.1:8000
listen: 0.0.0.0:8080
admin: 127.0.0.1:9464
contextClasses: { mediumFromTokens: 32768, longFromTokens: 100000 }
proxy: { upstreamTimeoutMs: 600000, maxBodyBytes: 16777216 }
gpu: { enabled: true, intervalMs: 5000, nvidiaSmiPath: nvidia-smi }
alerts:
  language: zh
  gpuMemoryHigh: { ratio: 0.92, forSeconds: 30 }
relay:
  language: en
  timezone: Asia/Shanghai
  retry: { maxAttempts: 4, initialBackoffMs: 1000, maxBackoffMs: 30000 }
  channels:
    - { name: ops, type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=\${TOKEN}" }
    - name: file
      type: file
      path: /tmp/alerts.log
`

const INSERTS = [
  ':',
  ': ',
  '- ',
  '\t',
  '  ',
  '"',
  "'",
  '{',
  '[',
  '&a ',
  '*a',
  '*nope',
  '!!binary ',
  '!!js/function ',
  '${NOPE}',
  '${TOKEN}',
  '~',
  'null',
  '-1',
  '1e999',
  '0x10',
  '<<: *a',
  '\n- x\n',
  '\nzzz: 1\n',
  deepJson(3_000),
]

const dir = mkdtempSync(join(tmpdir(), 'iw-config-fuzz-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('the valid base file loads', () => {
  const path = join(dir, 'valid.yaml')
  writeFileSync(path, VALID)
  assert.equal(loadConfig({ path, env: { TOKEN: 't' } }).relay.channels.length, 2)
})

test('mutated inferwatch.yaml: a config or a CONFIG_* error naming the file and key', async () => {
  const path = join(dir, 'inferwatch.yaml')
  const outcomes = new Map<string, number>()
  await fuzz(
    'inferwatch.yaml',
    // Files stay under ~25 KB: the yaml parser takes a minute on a megabyte of unbalanced
    // brackets (a parser limit on input no config file has; a startup cost, not a hang).
    fc.property(mutatedText([VALID], INSERTS, 5_000), (text) => {
      writeFileSync(path, text)
      let code = 'ok'
      try {
        loadConfig({ path, env: { TOKEN: 't' } })
      } catch (err) {
        if (!isAppError(err)) throw err
        code = err.code
        assert.match(code, /^(CONFIG_INVALID|CONFIG_ENV_MISSING)$/, err.message)
        assert.ok(err.message.includes(path), `names the file: ${err.message}`)
        assert.ok(err.hint, 'says what to do')
        assert.doesNotMatch(err.message, /TypeError|Cannot read prop|is not a function/)
      }
      outcomes.set(code, (outcomes.get(code) ?? 0) + 1)
    }),
    40,
  )
  assert.ok(outcomes.size >= 2, JSON.stringify([...outcomes]))
})

test('regression: a file whose top level is not a mapping is CONFIG_INVALID, not ignored', () => {
  const path = join(dir, 'scalar.yaml')
  for (const text of ['upstream:http://10.0.0.5:8000\n', '- upstream: http://x\n', '42\n']) {
    writeFileSync(path, text)
    assert.throws(
      () => loadConfig({ path }),
      (e) =>
        isAppError(e, 'CONFIG_INVALID') && e.message.includes(path) && /top level/.test(e.message),
      text,
    )
  }
  writeFileSync(path, '# only a comment\n')
  assert.equal(loadConfig({ path }).proxy.maxBodyBytes > 0, true)
})
