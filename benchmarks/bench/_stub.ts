// The no-op streaming stub both clients load (a child process of its own). The mode is the first
// path segment of the URL: /fast answers at once (role chunk, 4 content chunks, usage, [DONE] in
// one write); /sched/<first>/<gap>/<n> writes the first content <first> ms after the request
// arrived and then one every <gap> ms, n in all. Request bodies are read and dropped.
import { createServer } from 'node:http'

const sse = (v: unknown) => `data: ${JSON.stringify(v)}\n\n`
const base = { id: 'x', object: 'chat.completion.chunk', created: 0, model: 'stub' }
const role = sse({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] })
const token = sse({ ...base, choices: [{ index: 0, delta: { content: ' tok' } }] })
const tail = (n: number) =>
  `${sse({ ...base, choices: [], usage: { prompt_tokens: 0, completion_tokens: n, total_tokens: n } })}data: [DONE]\n\n`
const FAST = Buffer.from(role + token.repeat(4) + tail(4))

const server = createServer((req, res) => {
  req.on('data', () => {})
  req.on('end', () => {
    const t0 = performance.now()
    const parts = (req.url ?? '/').split('/')
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    if (parts[1] !== 'sched') return void res.end(FAST)
    const first = Number(parts[2])
    const gap = Number(parts[3])
    const n = Number(parts[4])
    res.write(role)
    let i = 0
    const step = () => {
      const due = t0 + first + i * gap
      const wait = due - performance.now()
      if (wait > 0) return void setTimeout(step, Math.ceil(wait))
      res.write(token)
      if (++i === n) res.end(tail(n))
      else step()
    }
    step()
  })
})
server.keepAliveTimeout = 60_000
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const a = server.address()
  process.stdout.write(`${typeof a === 'object' && a ? a.port : 0}\n`)
})
