// Reference for the proxy benchmark: the barest Node reverse proxy (http.request + pipe, keep-alive
// agent, no header filtering, no metering) in its own process. It shows what Node's http stack
// costs on this machine, so inferwatch's numbers can be read against the floor of its runtime.
// Usage: node _node-pipe.js UPSTREAM_URL; prints its URL on stdout.
import { Agent, createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'

const upstream = new URL(process.argv[2] ?? 'http://127.0.0.1:8000')
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY })
const server = createServer((req, res) => {
  const up = request(
    {
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    },
    (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers)
      r.pipe(res)
    },
  )
  up.on('error', () => res.destroy())
  req.pipe(up)
})
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`)
})
