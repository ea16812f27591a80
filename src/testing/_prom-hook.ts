import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { closeServer, listenLocal } from './net.js'

export interface HookBody {
  status: string
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[]
}

/** A webhook receiver on 127.0.0.1: collects Alertmanager's POST bodies (any path), answers 200. */
export async function startHookReceiver(): Promise<{
  url: string
  bodies: HookBody[]
  close(): Promise<void>
}> {
  const bodies: HookBody[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        const parsed = parseHookBody(JSON.parse(Buffer.concat(chunks).toString('utf8')))
        if (parsed) bodies.push(parsed)
      } catch {}
      res.writeHead(200).end('ok')
    })
  })
  const url = await listenLocal(server)
  return { url, bodies, close: () => closeServer(server) }
}

function strings(v: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x
  }
  return out
}

function parseHookBody(v: unknown): HookBody | undefined {
  if (typeof v !== 'object' || v === null || !('alerts' in v) || !Array.isArray(v.alerts)) return
  const status = 'status' in v && typeof v.status === 'string' ? v.status : ''
  const alerts = v.alerts
    .filter((a: unknown): a is Record<string, unknown> => typeof a === 'object' && a !== null)
    .map((a) => ({
      status: typeof a.status === 'string' ? a.status : '',
      labels: strings(a.labels),
      annotations: strings(a.annotations),
    }))
  return { status, alerts }
}
