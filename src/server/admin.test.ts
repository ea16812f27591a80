import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Gauge, Registry } from 'prom-client'
import { startAdminServer } from './_admin.js'

async function get(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init)
  return { status: res.status, headers: res.headers, text: await res.text() }
}

test('/metrics serves the registry with its content type; /healthz and /readyz', async (t) => {
  const registry = new Registry()
  new Gauge({ name: 'inferwatch_test_gauge', help: 'x', registers: [registry] }).set(7)
  let ready = { ok: true } as { ok: boolean; reason?: string }
  const admin = await startAdminServer({ registry, port: 0, ready: () => ready })
  t.after(() => admin.close())

  const m = await get(`${admin.url}/metrics`)
  assert.equal(m.status, 200)
  assert.equal(m.headers.get('content-type'), registry.contentType)
  assert.match(m.text, /^inferwatch_test_gauge 7$/m)

  assert.equal((await get(`${admin.url}/healthz`)).status, 200)
  assert.equal((await get(`${admin.url}/readyz`)).status, 200)
  ready = { ok: false, reason: 'upstream http://127.0.0.1:1 refused the connection' }
  const r = await get(`${admin.url}/readyz`)
  assert.equal(r.status, 503)
  assert.match(r.text, /refused the connection/)

  assert.equal((await get(`${admin.url}/nope`)).status, 404)
  const wrongMethod = await get(`${admin.url}/metrics`, { method: 'POST' })
  assert.equal(wrongMethod.status, 405)
  assert.equal(wrongMethod.headers.get('allow'), 'GET')
})

test('the bearer token guards everything except /healthz', async (t) => {
  const registry = new Registry()
  const admin = await startAdminServer({
    registry,
    port: 0,
    token: 's3cret-token',
    ready: () => ({ ok: true }),
    routes: [
      {
        method: 'POST',
        path: '/hooks/alertmanager',
        handler: (_req, res) => {
          res.writeHead(202)
          res.end('queued')
        },
      },
    ],
  })
  t.after(() => admin.close())
  assert.equal((await get(`${admin.url}/healthz`)).status, 200)
  for (const auth of [
    undefined,
    'Bearer wrong',
    'Bearer s3cret-token-longer',
    'Basic s3cret-token',
    'Bearer ',
  ]) {
    const r = await get(`${admin.url}/metrics`, auth ? { headers: { authorization: auth } } : {})
    assert.equal(r.status, 401, String(auth))
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="inferwatch"')
    assert.match(r.text, /"code":"unauthorized"/)
  }
  const ok = await get(`${admin.url}/metrics`, {
    headers: { authorization: 'Bearer s3cret-token' },
  })
  assert.equal(ok.status, 200)
  const hook = await get(`${admin.url}/hooks/alertmanager`, {
    method: 'POST',
    body: '{}',
    headers: { authorization: 'bearer s3cret-token' },
  })
  assert.equal(hook.status, 202)
  assert.equal(hook.text, 'queued')
})

test('mounted routes, handler failures answer 500, the port in use is ADMIN_LISTEN_FAILED naming the address', async (t) => {
  const registry = new Registry()
  const admin = await startAdminServer({ registry, port: 0, ready: () => ({ ok: true }) })
  t.after(() => admin.close())
  admin.mount({
    method: 'GET',
    path: '/api/*',
    handler: (req, res) => {
      res.end(`api:${req.url}`)
    },
  })
  admin.mount({
    method: 'GET',
    path: '/boom',
    handler: () => {
      throw new Error('bug')
    },
  })
  assert.equal((await get(`${admin.url}/api/x?y=1`)).text, 'api:/api/x?y=1')
  assert.equal((await get(`${admin.url}/boom`)).status, 500)
  await assert.rejects(
    startAdminServer({ registry, port: admin.port, ready: () => ({ ok: true }) }),
    (err: unknown) => {
      const e = err as { code?: string; message?: string; hint?: string }
      assert.equal(e.code, 'ADMIN_LISTEN_FAILED')
      assert.match(
        e.message ?? '',
        new RegExp(`admin server cannot listen on 127\\.0\\.0\\.1:${admin.port}`),
      )
      assert.match(e.hint ?? '', /another process uses .* --admin/)
      return true
    },
  )
})
