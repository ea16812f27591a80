import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

// How probeUrl sends one request. By default through node:http with no agent: the probe's own
// socket, closed after the answer and destroyed the moment the probe is aborted. fetch (undici)
// keeps a connection whose request was aborted while connecting as an idle pooled socket for 4 s,
// and to llama.cpp an idle connection is a busy HTTP thread (the links in probe.ts); an injected
// fetch (tests, callers with their own dispatcher) is still honoured.

export interface Sent {
  method: 'GET' | 'POST'
  headers: Record<string, string>
  body?: string
  signal: AbortSignal
  maxBodyBytes: number
}

/** `body` undefined: larger than maxBodyBytes (the rest was not read). */
export interface Answer {
  status: number
  contentType: string
  body: string | undefined
}

export function sendWithNodeHttp(url: string, sent: Sent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url)
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest
    const req = request(
      target,
      { method: sent.method, headers: sent.headers, agent: false, signal: sent.signal },
      (res) => {
        const chunks: Buffer[] = []
        let total = 0
        const answer = (body: string | undefined): Answer => ({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body,
        })
        res.on('data', (chunk: Buffer) => {
          total += chunk.byteLength
          if (total > sent.maxBodyBytes) {
            resolve(answer(undefined))
            req.destroy()
          } else chunks.push(chunk)
        })
        res.on('end', () => resolve(answer(Buffer.concat(chunks).toString('utf8'))))
        res.on('error', reject)
        res.on('close', () => {
          if (!res.complete) reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }))
        })
      },
    )
    req.on('error', reject)
    req.end(sent.body)
  })
}

export async function sendWithFetch(
  doFetch: typeof globalThis.fetch,
  url: string,
  sent: Sent,
): Promise<Answer> {
  const res = await doFetch(url, {
    method: sent.method,
    headers: sent.headers,
    ...(sent.body !== undefined ? { body: sent.body } : {}),
    signal: sent.signal,
    redirect: 'manual',
  })
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    body: await readCapped(res, sent.maxBodyBytes),
  }
}

async function readCapped(res: Response, maxBytes: number): Promise<string | undefined> {
  if (!res.body) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel().catch(() => {})
      return undefined
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
