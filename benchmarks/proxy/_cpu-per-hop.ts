// Lane 6: CPU per proxied request, measured in one process (client, stub and proxy together) so the
// difference between targets is what each proxy hop costs. Best of `reps` runs: on a shared machine
// the minimum is the least disturbed. Targets: a bare Node pipe proxy, inferwatch's transport
// alone, and inferwatch's transport with the real meter.
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

async function drive(url: string, n: number, concurrency: number): Promise<void> {
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
            headers: { 'content-type': 'application/json', 'content-length': BODY.length },
          },
          (res) => {
            res.resume()
            res.on('end', () => resolve())
          },
        )
        req.on('error', reject)
        req.end(BODY)
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
  const targets: Record<string, string> = {
    direct,
    'node-pipe': pipeUrl,
    transport: transport.url,
    metered: metered.url,
  }
  const best: Record<string, number> = {}
  try {
    for (const url of Object.values(targets)) await drive(url, Math.min(300, n), 8)
    for (let r = 0; r < reps; r++) {
      for (const [name, url] of Object.entries(targets)) {
        const before = process.cpuUsage()
        await drive(url, n, 8)
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
  }
}
