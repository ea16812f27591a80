import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { isAppError } from '../shared/index.js'
import { loadConfig } from './index.js'

function tmpFile(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'iw-config-')), 'inferwatch.yaml')
  writeFileSync(p, text)
  return p
}

test('defaults come from design.md', () => {
  const c = loadConfig()
  assert.equal(c.upstream, 'http://127.0.0.1:8000')
  assert.equal(c.listen, '0.0.0.0:8080')
  assert.equal(c.admin, '127.0.0.1:9464')
  assert.deepEqual(c.contextClasses, { mediumFromTokens: 32768, longFromTokens: 100000 })
  assert.equal(c.relay.timezone, 'Asia/Shanghai')
  assert.ok(Object.isFrozen(c.contextClasses))
})

test('flags override the file, ${VAR} reads the environment', () => {
  const p = tmpFile(
    'upstream: http://engine:8000\nadmin: 127.0.0.1:1\nrelay:\n  channels:\n    - { name: a, type: dingtalk, url: "https://x/?access_token=${TOK}" }\n',
  )
  const c = loadConfig({ path: p, env: { TOK: 's3cret' }, overrides: { admin: '127.0.0.1:2' } })
  assert.equal(c.upstream, 'http://engine:8000')
  assert.equal(c.admin, '127.0.0.1:2')
  assert.equal(c.relay.channels[0]?.url, 'https://x/?access_token=s3cret')
})

test('unknown keys, bad types, missing env and missing files are CONFIG_* errors', () => {
  assert.throws(
    () => loadConfig({ path: tmpFile('upstreem: x\n') }),
    (e) => isAppError(e, 'CONFIG_INVALID') && /upstreem/.test(e.message),
  )
  assert.throws(
    () => loadConfig({ path: tmpFile('contextClasses: { longFromTokens: -1 }\n') }),
    (e) => isAppError(e, 'CONFIG_INVALID'),
  )
  assert.throws(
    () => loadConfig({ path: tmpFile('contextClasses: { mediumFromTokens: 200000 }\n') }),
    (e) => isAppError(e, 'CONFIG_INVALID'),
  )
  assert.throws(
    () => loadConfig({ path: tmpFile('upstream: "${NOPE}"\n'), env: {} }),
    (e) => isAppError(e, 'CONFIG_ENV_MISSING') && /NOPE/.test(e.message),
  )
  assert.throws(
    () => loadConfig({ path: '/nonexistent/inferwatch.yaml' }),
    (e) => isAppError(e, 'CONFIG_NOT_FOUND'),
  )
  assert.throws(
    () => loadConfig({ path: tmpFile('a: [\n') }),
    (e) => isAppError(e, 'CONFIG_INVALID'),
  )
})
