// One request on the wire: node:http(s) with a keep-alive agent (no fetch on the hot path), the
// answer read incrementally from raw Buffers — lines split by byte, decoded one line at a time,
// each event timed at the arrival of the chunk that carried it. Output tokens come from the
// server's usage (or are counted as content events), never by tokenizing the output.
import { Agent, type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Duplex } from 'node:stream'
import { createEventReader, type EventFacts, readWholeAnswer } from './_formats.js'
import type { BenchEndpoint, RequestRecord } from './types.js'

const NL = 0x0a
const MAX_ERROR_BODY = 4096
/** Idle keep-alive sockets are closed after this: below the 5 s idle timeout of uvicorn (vLLM,
 * SGLang) and cpp-httplib (llama.cpp), so a request is not sent on a socket the server is closing. */
const IDLE_CLOSE_MS = 4000

// Node's Agent keeps a socket when keepSocketAlive returns true (typed void in @types/node) and
// destroys a free socket whose timeout fires (https://nodejs.org/api/http.html#agentkeepsocketalivesocket).
function closeWhenIdle(agent: Agent): Agent {
  const keep = agent.keepSocketAlive.bind(agent) as (socket: Duplex) => unknown
  const reuse = agent.reuseSocket.bind(agent)
  agent.keepSocketAlive = (socket: Duplex) => {
    const kept = keep(socket)
    if (kept) (socket as Socket).setTimeout(IDLE_CLOSE_MS)
    return kept as undefined
  }
  agent.reuseSocket = (socket: Duplex, req: ClientRequest) => {
    ;(socket as Socket).setTimeout(0)
    reuse(socket, req)
  }
  return agent
}

export interface WireTarget {
  url: URL
  endpoint: BenchEndpoint
  stream: boolean
  headers: Record<string, string>
}

export interface Wire {
  /** Sends `body` to `path`; fills `rec` (times relative to `t0`) and resolves when it ended. */
  send(
    path: string,
    body: readonly Buffer[],
    rec: RequestRecord,
    t0: number,
    timeoutMs: number,
  ): Promise<void>
  /** Aborts every request in flight (they end with error `aborted`). */
  abortAll(): void
  close(): void
}

export function createWire(target: WireTarget): Wire {
  const https = target.url.protocol === 'https:'
  const agentOptions = {
    keepAlive: true,
    maxSockets: Number.POSITIVE_INFINITY,
    maxFreeSockets: 4096,
  }
  const agent = closeWhenIdle(https ? new HttpsAgent(agentOptions) : new Agent(agentOptions))
  const request = https ? httpsRequest : httpRequest
  const live = new Set<ClientRequest>()
  let aborting = false
  const host = target.url.hostname.replace(/^\[|\]$/g, '')
  const port = target.url.port || (https ? 443 : 80)
  const prefix = target.url.pathname.replace(/\/$/, '')

  const send: Wire['send'] = (path, body, rec, t0, timeoutMs) =>
    new Promise<void>((resolve) => {
      let finished = false
      const finish = (error?: string, detail?: string) => {
        if (finished) return
        finished = true
        clearTimeout(timer)
        live.delete(req)
        rec.endMs = performance.now() - t0
        // Whatever a request cut by abortAll reports (a reset, a socket error), it was interrupted.
        if (error && aborting) error = 'aborted'
        if (error) {
          rec.error = error
          if (detail) rec.errorDetail = detail.slice(0, 300)
        }
        resolve()
      }
      const headers = {
        ...target.headers,
        'content-type': 'application/json',
        'content-length': String(body.reduce((n, b) => n + b.length, 0)),
      }
      rec.sentMs = performance.now() - t0
      let req: ClientRequest
      const timer = setTimeout(() => {
        finish('timeout', `no complete answer within ${timeoutMs} ms`)
        req.destroy()
      }, timeoutMs)
      const start = (retries: number) => {
        req = request({ host, port, method: 'POST', path: prefix + path, headers, agent })
        live.add(req)
        const mine = req
        mine.on('error', (err: NodeJS.ErrnoException) => {
          if (finished) return
          live.delete(mine)
          const code = err.code ?? ''
          if (err.message === 'aborted by the run') return finish('aborted')
          // A kept-alive socket the server closed as we reused it: nothing was answered, so the
          // request is sent again (up to 3 times) on another socket (as node's docs advise for reusedSocket).
          if (
            retries < 3 &&
            mine.reusedSocket &&
            rec.headersMs === undefined &&
            (code === 'ECONNRESET' || code === 'EPIPE')
          )
            return start(retries + 1)
          if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH')
            finish('connect', `${code}: ${err.message}`)
          else finish('reset', `${code || 'error'}: ${err.message}`)
        })
        mine.on('response', onResponse)
        for (let i = 0; i < body.length - 1; i++) mine.write(body[i] as Buffer)
        mine.end(body[body.length - 1])
      }
      const onResponse = (res: IncomingMessage) => {
        const tHead = performance.now() - t0
        rec.headersMs = tHead
        rec.status = res.statusCode ?? 0
        if (rec.status >= 400) return readError(res, finish)
        if (target.stream) readStream(res, rec, t0, finish, target.endpoint)
        else readWhole(res, rec, t0, finish, target.endpoint)
      }
      start(0)
    })

  return {
    send,
    abortAll() {
      aborting = true
      for (const req of live) req.destroy(new Error('aborted by the run'))
      aborting = live.size > 0
    },
    close() {
      agent.destroy()
    },
  }
}

type Finish = (error?: string, detail?: string) => void

function readError(res: IncomingMessage, finish: Finish) {
  const chunks: Buffer[] = []
  let size = 0
  res.on('data', (c: Buffer) => {
    if (size < MAX_ERROR_BODY) chunks.push(c)
    size += c.length
  })
  res.on('end', () =>
    finish(`http_${res.statusCode}`, Buffer.concat(chunks).toString('utf8', 0, MAX_ERROR_BODY)),
  )
  res.on('error', () => finish(`http_${res.statusCode}`))
}

function apply(facts: EventFacts, rec: RequestRecord, t: number): void {
  if (facts.content) rec.chunkMs.push(t)
  else if (facts.roleOnly && rec.chunkMs.length === 0 && rec.roleChunkMs === undefined)
    rec.roleChunkMs = t
  if (facts.promptTokens !== undefined) rec.serverInputTokens = facts.promptTokens
  if (facts.outputTokens !== undefined) {
    rec.outputTokens = facts.outputTokens
    rec.outputTokensFrom = 'usage'
  }
}

function readStream(
  res: IncomingMessage,
  rec: RequestRecord,
  t0: number,
  finish: Finish,
  endpoint: BenchEndpoint,
) {
  const read = createEventReader(endpoint)
  const ndjson = endpoint === 'vllm-generate'
  let rest: Buffer | undefined
  let failure: string | undefined
  const line = (buf: Buffer, start: number, end: number, t: number) => {
    if (end > start && buf[end - 1] === 0x0d) end--
    if (end <= start) return
    let payload: string
    if (ndjson) payload = buf.toString('utf8', start, end)
    else {
      // `data:` with an optional space (TGI sends none); comments and other fields are skipped.
      if (
        end - start < 5 ||
        buf[start] !== 0x64 ||
        buf.toString('latin1', start, start + 5) !== 'data:'
      )
        return
      const from = buf[start + 5] === 0x20 ? start + 6 : start + 5
      payload = buf.toString('utf8', from, end)
    }
    const facts = read(payload)
    if (facts.error && !failure) failure = facts.error
    apply(facts, rec, t)
  }
  res.on('data', (chunk: Buffer) => {
    const t = performance.now() - t0
    let buf = chunk
    if (rest) {
      buf = Buffer.concat([rest, chunk])
      rest = undefined
    }
    let start = 0
    for (let i = buf.indexOf(NL); i !== -1; i = buf.indexOf(NL, start)) {
      line(buf, start, i, t)
      start = i + 1
    }
    if (start < buf.length) rest = buf.subarray(start)
  })
  res.on('end', () => {
    if (rest) line(rest, 0, rest.length, performance.now() - t0)
    if (rec.outputTokensFrom !== 'usage') rec.outputTokens = rec.chunkMs.length
    if (failure) finish('bad_stream', failure)
    else if (rec.chunkMs.length === 0) finish('bad_stream', 'the stream ended without output')
    else finish()
  })
  res.on('error', (err) => finish('reset', err.message))
}

function readWhole(
  res: IncomingMessage,
  rec: RequestRecord,
  t0: number,
  finish: Finish,
  endpoint: BenchEndpoint,
) {
  const chunks: Buffer[] = []
  res.on('data', (c: Buffer) => chunks.push(c))
  res.on('end', () => {
    const t = performance.now() - t0
    const facts = readWholeAnswer(endpoint, Buffer.concat(chunks).toString('utf8'))
    if (facts.error) return finish('bad_stream', facts.error)
    // Not streamed: the first token is only seen with the last.
    rec.chunkMs.push(t)
    apply({ ...facts, content: false, ...usageHeaders(res) }, rec, t)
    if (rec.outputTokensFrom !== 'usage') rec.outputTokens = facts.content ? 1 : 0
    finish()
  })
  res.on('error', (err) => finish('reset', err.message))
}

/** TGI reports a whole answer's counts in headers (x-prompt-tokens, x-generated-tokens). */
function usageHeaders(res: IncomingMessage): Partial<EventFacts> {
  const out: Partial<EventFacts> = {}
  const p = Number(res.headers['x-prompt-tokens'])
  const g = Number(res.headers['x-generated-tokens'])
  if (res.headers['x-prompt-tokens'] !== undefined && Number.isInteger(p) && p >= 0)
    out.promptTokens = p
  if (res.headers['x-generated-tokens'] !== undefined && Number.isInteger(g) && g >= 0)
    out.outputTokens = g
  return out
}
