// The fast upstream stub for the proxy benchmark, run as its own process so it does not share an
// event loop with the measuring client. Prints its port on stdout, then serves until killed.
//   POST with `"stream":true` in the body: SSE, `deltas` chunks `gapMs` apart (first at once)
//   ...and the path ends with `?slow`: three deltas a second apart (many concurrent streams)
//   ...and the path ends with `?once`: one delta and [DONE] at once (time-to-first-token lanes)
//   anything else: a small chat.completion JSON
// Query parameters of the path are not parsed (the hot path stays trivial).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

const DELTAS = 64
const GAP_MS = 20
const JSON_BODY = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1,
    model: 'bench',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 8, completion_tokens: 1, total_tokens: 9 },
  }),
)
const delta = (i: number) =>
  Buffer.from(
    `data: {"id":"b","object":"chat.completion.chunk","created":1,"model":"bench","choices":[{"index":0,"delta":{"content":" t${i}"}}]}\n\n`,
  )
const DONE = Buffer.from(
  'data: {"id":"b","object":"chat.completion.chunk","created":1,"model":"bench","choices":[],"usage":{"prompt_tokens":8,"completion_tokens":64,"total_tokens":72}}\n\ndata: [DONE]\n\n',
)
const STREAM_MARK = Buffer.from('"stream":true')

const server = createServer((req, res) => {
  let stream = false
  let tail: Buffer = Buffer.alloc(0)
  req.on('data', (c: Buffer) => {
    if (!stream) {
      // Look across the chunk boundary too.
      const window: Buffer = tail.length ? Buffer.concat([tail, c.subarray(0, 64)]) : c
      stream = window.includes(STREAM_MARK) || c.includes(STREAM_MARK)
      tail = c.subarray(Math.max(0, c.length - 16))
    }
  })
  req.on('end', () => {
    if (!stream) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': JSON_BODY.length })
      res.end(JSON_BODY)
      return
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    if (req.url?.endsWith('?slow')) {
      // Many long-lived streams (RSS lane): a delta at once, then one a second, three in all.
      let n = 1
      res.write(delta(0))
      const slow = setInterval(() => {
        if (n < 3) res.write(delta(n++))
        else {
          clearInterval(slow)
          res.end(DONE)
        }
      }, 1000)
      res.on('close', () => clearInterval(slow))
      return
    }
    if (req.url?.endsWith('?once')) {
      res.write(delta(0))
      res.end(DONE)
      return
    }
    let i = 0
    res.write(delta(i++))
    const timer = setInterval(() => {
      if (i < DELTAS) res.write(delta(i++))
      else {
        clearInterval(timer)
        res.end(DONE)
      }
    }, GAP_MS)
    res.on('close', () => clearInterval(timer))
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`)
})
