// The reference: the smallest reasonable Node client loop — node:http with a keep-alive agent, a
// closed loop of N workers or a setTimeout-paced open loop, TTFT at the first chunk that carries
// content. Usage: node _minimal-client.js URL c|rate VALUE REQUESTS [BODY_FILE]; prints JSON.
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'

const [url, mode, value, count, bodyFile] = process.argv.slice(2)
const u = new URL(url ?? '')
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY })
const body = bodyFile
  ? readFileSync(bodyFile)
  : Buffer.from(
      '{"model":"stub","messages":[{"role":"user","content":"hi"}],"max_tokens":4,"stream":true}',
    )
const total = Number(count)
const ttft: number[] = []
const queue: number[] = []
let done = 0

function one(scheduled: number): Promise<void> {
  return new Promise((resolve) => {
    const sent = performance.now()
    queue.push(sent - scheduled)
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path: `${u.pathname.replace(/\/$/, '')}/v1/chat/completions`,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        let first = true
        res.on('data', (c: Buffer) => {
          if (first && c.includes('"content":" ')) {
            first = false
            ttft.push(performance.now() - scheduled)
          }
        })
        res.on('end', () => {
          done++
          resolve()
        })
      },
    )
    req.on('error', () => resolve())
    req.end(body)
  })
}

const t0 = performance.now()
if (mode === 'c') {
  let next = 0
  await Promise.all(
    Array.from({ length: Number(value) }, async () => {
      while (next++ < total) await one(performance.now())
    }),
  )
} else {
  const gap = 1000 / Number(value)
  const pending: Promise<void>[] = []
  await new Promise<void>((resolve) => {
    let i = 0
    const tick = () => {
      const now = performance.now()
      while (i < total && t0 + i * gap <= now) pending.push(one(t0 + i++ * gap))
      if (i >= total) return resolve()
      setTimeout(tick, Math.max(0, t0 + i * gap - performance.now()))
    }
    tick()
  })
  await Promise.all(pending)
}
const seconds = (performance.now() - t0) / 1000
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN
}
process.stdout.write(
  `${JSON.stringify({ completed: done, seconds, rps: done / seconds, ttft_p50: q(ttft, 0.5), ttft_p99: q(ttft, 0.99), queue_p99: q(queue, 0.99) })}\n`,
)
agent.destroy()
