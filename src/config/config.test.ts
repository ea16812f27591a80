import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { isAppError } from '../shared/index.js'
import { loadConfig, localUrlOf, parseHostPort, parseHttpUrl } from './index.js'

function tmpFile(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'iw-config-')), 'inferwatch.yaml')
  writeFileSync(p, text)
  return p
}

test('defaults: engine on :8000, proxy on 0.0.0.0:8080, admin on 127.0.0.1:9464', () => {
  const c = loadConfig()
  assert.equal(c.upstream.href, 'http://127.0.0.1:8000/')
  assert.deepEqual(c.listen, { host: '0.0.0.0', port: 8080 })
  assert.deepEqual(c.admin, { host: '127.0.0.1', port: 9464 })
  assert.deepEqual(c.contextClasses, { mediumFromTokens: 32768, longFromTokens: 100000 })
  assert.equal(c.relay.timezone, 'Asia/Shanghai')
  assert.ok(Object.isFrozen(c.contextClasses))
})

test('flags override the file, ${VAR} reads the environment', () => {
  const p = tmpFile(
    'upstream: http://engine:8000\nadmin: 127.0.0.1:1\nrelay:\n  channels:\n    - { name: a, type: dingtalk, url: "https://x/?access_token=${TOK}" }\n',
  )
  const c = loadConfig({ path: p, env: { TOK: 's3cret' }, overrides: { admin: '127.0.0.1:2' } })
  assert.equal(c.upstream.href, 'http://engine:8000/')
  assert.deepEqual(c.admin, { host: '127.0.0.1', port: 2 })
  assert.equal(c.relay.channels[0]?.url, 'https://x/?access_token=s3cret')
})

test('URLs and host:port are parsed once, into typed values; flags may pass them parsed', () => {
  const c = loadConfig({
    path: tmpFile('upstream: http://user:pw@engine:8000/base/\nlisten: "[::1]:8081"\n'),
    overrides: { admin: parseHostPort('0.0.0.0:9999', '--admin') },
  })
  assert.deepEqual(
    { ...c.upstream },
    {
      href: 'http://user:pw@engine:8000/base/',
      protocol: 'http:',
      hostname: 'engine',
      port: 8000,
      authority: 'engine:8000',
      basePath: '/base',
      base: 'http://engine:8000/base',
      label: 'http://***@engine:8000/base',
    },
  )
  assert.deepEqual(c.listen, { host: '::1', port: 8081 })
  assert.deepEqual(c.admin, { host: '0.0.0.0', port: 9999 })
  assert.equal(parseHttpUrl('https://h', '--upstream').port, 443)
  assert.equal(localUrlOf(c.admin), 'http://127.0.0.1:9999')
  assert.equal(localUrlOf({ host: '::', port: 1 }), 'http://[::1]:1')
  for (const [yaml, key] of [
    ['upstream: ftp://x\n', 'upstream'],
    ['upstream: http://h:1/?q=1\n', 'upstream'],
    ['listen: 8080\n', 'listen'],
    ['admin: "h:99999"\n', 'admin'],
    ['prometheus: { url: "not a url" }\n', 'prometheus.url'],
  ]) {
    assert.throws(
      () => loadConfig({ path: tmpFile(yaml as string) }),
      (e) => isAppError(e, 'CONFIG_INVALID') && e.message.includes(`${key}:`),
      yaml,
    )
  }
  assert.throws(
    () => parseHttpUrl('localhost:8000', '--upstream', 'UPSTREAM_URL_INVALID'),
    (e) =>
      isAppError(e, 'UPSTREAM_URL_INVALID') &&
      /--upstream must be an http\(s\) URL/.test(e.message),
  )
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
