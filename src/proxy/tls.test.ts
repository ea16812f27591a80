import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { parseHttpUrl } from '../config/index.js'
import { probeUrl } from '../engines/index.js'
import { REPO_ROOT } from '../testing/index.js'
import { send } from '../testing/proxy-upstream.js'
import { startProxy } from './index.js'

// An engine behind TLS (an https:// --upstream). The certificate is a throwaway self-signed one for
// 127.0.0.1, made for these tests only:
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500 \
//     -keyout engine-key.pem -out engine-cert.pem -subj "/CN=inferwatch test engine" \
//     -addext "subjectAltName=IP:127.0.0.1,DNS:localhost"
// Node trusts it only through NODE_EXTRA_CA_CERTS, which it reads at start: the trusting proxy
// runs as the real CLI in a child process; the untrusting one in this process.

const TLS_DIR = join(REPO_ROOT, 'src/proxy/testdata/tls')
const CERT = join(TLS_DIR, 'engine-cert.pem')
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

interface TlsEngine {
  url: string
  /** Chat requests seen, as [connection, nth on it]. */
  chats: [number, number][]
}

/** An https engine: answers discovery, and each chat with the sha256 of its body, except that
 * `drop(nth)` makes it close the connection on the nth chat request of a connection unanswered. */
async function tlsEngine(t: TestContext, drop: (nth: number) => boolean): Promise<TlsEngine> {
  const engine: TlsEngine = { url: '', chats: [] }
  const ids = new WeakMap<Socket, { id: number; nth: number }>()
  let connections = 0
  const server: Server = createServer(
    { key: readFileSync(join(TLS_DIR, 'engine-key.pem')), cert: readFileSync(CERT) },
    (req, res) => {
      if (req.method === 'GET' && req.url === '/v1/models') {
        res.setHeader('content-type', 'application/json')
        res.end('{"object":"list","data":[{"id":"qwen3-4b","object":"model","owned_by":"vllm"}]}')
        return
      }
      if (req.method !== 'POST') {
        res.end('ok')
        return
      }
      const conn = ids.get(req.socket) ?? { id: ++connections, nth: 0 }
      ids.set(req.socket, conn)
      conn.nth += 1
      engine.chats.push([conn.id, conn.nth])
      const parts: Buffer[] = []
      req.on('data', (c: Buffer) => parts.push(c))
      req.on('end', () => {
        if (drop(conn.nth)) return void req.socket.destroy()
        const body = Buffer.concat(parts)
        res.setHeader('content-type', 'application/json')
        res.setHeader('keep-alive', 'timeout=30')
        res.end(JSON.stringify({ sha: sha(body), bytes: body.length }))
      })
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    server.closeAllConnections()
    server.close()
  })
  engine.url = `https://127.0.0.1:${(server.address() as { port: number }).port}`
  return engine
}

/** `inferwatch proxy` as users run it, trusting the test certificate; its URL. */
async function cliProxy(t: TestContext, upstream: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'iw-tls-'))
  const config = join(dir, 'inferwatch.yaml')
  writeFileSync(config, 'gpu:\n  enabled: false\n')
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'dist/cli/bin.js'),
      'proxy',
      '--upstream',
      upstream,
      '--listen',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      '--config',
      config,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_EXTRA_CA_CERTS: CERT, INFERWATCH_LOG_LEVEL: 'warn' },
    },
  )
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  t.after(() => {
    child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`the proxy did not start: ${stderr}`)), 10_000)
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString()
      const m = /listening on (http:\/\/\S+) ->/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1] as string)
      }
    })
    child.once('exit', (code) => reject(new Error(`the proxy exited (${code}): ${stderr}`)))
  })
}

const chat = (proxyUrl: string, body: Buffer) =>
  send(proxyUrl, {
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    body,
  })

test('an https engine trusted through NODE_EXTRA_CA_CERTS: bodies pass intact, and a reused TLS connection the engine drops is retried', async (t) => {
  // The 2nd chat on any connection is dropped unanswered (the engine closing it as it arrives).
  const engine = await tlsEngine(t, (nth) => nth === 2)
  const proxy = await cliProxy(t, engine.url)
  const first = randomBytes(70_000)
  const second = randomBytes(3_000)
  const a = await chat(proxy, first)
  assert.equal(a.status, 200, a.body.toString())
  assert.deepEqual(JSON.parse(a.body.toString()), { sha: sha(first), bytes: first.length })
  const b = await chat(proxy, second)
  assert.equal(b.status, 200, b.body.toString())
  assert.deepEqual(JSON.parse(b.body.toString()), { sha: sha(second), bytes: second.length })
  // The second went out on the first connection (reused, dropped), then once on a new one.
  assert.deepEqual(engine.chats, [
    [1, 1],
    [1, 2],
    [2, 1],
  ])
})

test('a new TLS connection the engine drops is not retried: 502 upstream_reset', async (t) => {
  const engine = await tlsEngine(t, (nth) => nth === 1)
  const proxy = await cliProxy(t, engine.url)
  const reply = await chat(proxy, Buffer.from('{"model":"qwen3-4b","messages":[]}'))
  assert.equal(reply.status, 502)
  assert.equal(reply.headers['x-inferwatch-error'], 'upstream_reset')
  assert.deepEqual(engine.chats, [[1, 1]])
})

test('an engine certificate Node does not trust -> 502 upstream_unreachable that says how to trust it', async (t) => {
  const engine = await tlsEngine(t, () => false)
  const proxy = await startProxy({ upstream: parseHttpUrl(engine.url, 'upstream') })
  t.after(() => proxy.close())
  const reply = await chat(proxy.url, Buffer.from('{}'))
  assert.equal(reply.status, 502)
  assert.equal(reply.headers['x-inferwatch-error'], 'upstream_unreachable')
  const { error } = JSON.parse(reply.body.toString())
  assert.equal(error.code, 'upstream_unreachable')
  assert.match(error.message, /DEPTH_ZERO_SELF_SIGNED_CERT/)
  assert.match(error.message, /NODE_EXTRA_CA_CERTS=/)
  assert.deepEqual(engine.chats, [], 'nothing reached the engine')
})

test('an https upstream that speaks plain HTTP -> 502 upstream_unreachable naming the handshake', async (t) => {
  const plain = createHttpServer((_req, res) => res.end('plain'))
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve))
  t.after(() => plain.close())
  const port = (plain.address() as { port: number }).port
  const proxy = await startProxy({
    upstream: parseHttpUrl(`https://127.0.0.1:${port}`, 'upstream'),
  })
  t.after(() => proxy.close())
  const reply = await chat(proxy.url, Buffer.from('{}'))
  assert.equal(reply.status, 502)
  assert.equal(reply.headers['x-inferwatch-error'], 'upstream_unreachable')
  const { error } = JSON.parse(reply.body.toString())
  assert.match(error.message, /TLS handshake .*ERR_SSL_/)
  assert.match(error.message, /http:\/\/ --upstream/)
})

test("discovery's probe of an untrusted https engine says how to trust it", async (t) => {
  const engine = await tlsEngine(t, () => false)
  const result = await probeUrl(`${engine.url}/v1/models`, { timeoutMs: 5000 })
  assert.equal(result.ok, false)
  assert.match(result.ok ? '' : result.message, /DEPTH_ZERO_SELF_SIGNED_CERT.*NODE_EXTRA_CA_CERTS=/)
})
