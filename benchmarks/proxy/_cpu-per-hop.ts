// Lane 6: CPU per proxied request, measured in one process (client, stub and proxy together) so the
// difference between targets is what each proxy hop costs. Best of `reps` runs: on a shared machine
// the minimum is the least disturbed. Targets: a bare Node pipe proxy, inferwatch's transport
// alone, inferwatch's transport with the real meter, and the same with requests that carry a bearer
// key and a `user` field (the meter's per-client attribution then hashes and names them).
import { Agent, createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Registry } from 'prom-client'
import { parseHttpUrl } from '../../src/config/index.js'
import { createMeter } from '../../src/meter/index.js'
import { startProxy } from '../../src/proxy/index.js'

const BODY = Buffer.from(
  JSON.stringify({
    model: 'bench',
    messages: [{ role: 'user', content: 'Say ok.' }],
    max_tokens: 1,
  }),
)
/** The same request from a named client with an API key: what attribution has to work out. */
const ATTRIBUTED_BODY = Buffer.from(
  JSON.stringify({
    model: 'bench',
    messages: [{ role: 'user', content: 'Say ok.' }],
    max_tokens: 1,
    user: 'batch-summarizer',
  }),
)
const ATTRIBUTED_HEADERS = { authorization: 'Bearer sk-bench-0123456789abcdef0123456789abcdef' }

const REPLY = Buffer.from(
  JSON.stringify({
    id: 'x',
    object: 'chat.completion',
    model: 'bench',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 8, completion_tokens: 1, total_tokens: 9 },
  }),
)

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  )

async function drive(
  url: string,
  n: number,
  concurrency: number,
  body: Buffer = BODY,
  extraHeaders: Record<string, string> = {},
): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const u = new URL(url)
  let i = 0
  const worker = async () => {
    while (i++ < n) {
      await new Promise<void>((resolve, reject) => {
        const req = request(
          {
            hostname: u.hostname,
            port: u.port,
            method: 'POST',
            path: '/v1/chat/completions',
            agent,
            headers: {
              'content-type': 'application/json',
              'content-length': body.length,
              ...extraHeaders,
            },
          },
          (res) => {
            res.resume()
            res.on('end', () => resolve())
          },
        )
        req.on('error', reject)
        req.end(body)
      })
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  agent.destroy()
}

/** Added CPU µs per request for each proxy (its hop minus the direct exchange). */
export async function measureCpuPerHop(n: number, reps: number): Promise<Record<string, number>> {
  const stub = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': REPLY.length })
      res.end(REPLY)
    })
  })
  const direct = await listen(stub)
  const up = new URL(direct)
  const pipeAgent = new Agent({ keepAlive: true })
  const pipe = createServer((req, res) => {
    const r = request(
      {
        hostname: up.hostname,
        port: up.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: pipeAgent,
      },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers)
        ur.pipe(res)
      },
    )
    req.pipe(r)
  })
  const pipeUrl = await listen(pipe)
  const transport = await startProxy({
    upstream: parseHttpUrl(direct, 'upstream'),
    registry: new Registry(),
  })
  const registry = new Registry()
  const meter = createMeter({
    registry,
    contextClasses: { mediumFromTokens: 32768, longFromTokens: 100000 },
  })
  meter.setServedModels(['bench'], 'vllm')
  const metered = await startProxy({ upstream: parseHttpUrl(direct, 'upstream'), registry, meter })
  const targets: Record<string, [string, Buffer, Record<string, string>]> = {
    direct: [direct, BODY, {}],
    'node-pipe': [pipeUrl, BODY, {}],
    transport: [transport.url, BODY, {}],
    metered: [metered.url, BODY, {}],
    attributed: [metered.url, ATTRIBUTED_BODY, ATTRIBUTED_HEADERS],
  }
  const best: Record<string, number> = {}
  try {
    for (const [url, body, headers] of Object.values(targets))
      await drive(url, Math.min(300, n), 8, body, headers)
    for (let r = 0; r < reps; r++) {
      for (const [name, [url, body, headers]] of Object.entries(targets)) {
        const before = process.cpuUsage()
        await drive(url, n, 8, body, headers)
        const used = process.cpuUsage(before)
        best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, (used.user + used.system) / n)
      }
    }
  } finally {
    await transport.close()
    await metered.close()
    await meter.close()
    pipe.closeAllConnections()
    pipe.close()
    pipeAgent.destroy()
    stub.closeAllConnections()
    stub.close()
  }
  const d = best.direct ?? Number.NaN
  return {
    direct: d,
    'node-pipe': (best['node-pipe'] ?? Number.NaN) - d,
    transport: (best.transport ?? Number.NaN) - d,
    metered: (best.metered ?? Number.NaN) - d,
    attributed: (best.attributed ?? Number.NaN) - d,
  }
}
