import { createServer, get, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Listens on 127.0.0.1 port 0 and returns the base URL. */
export async function listenLocal(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return `http://127.0.0.1:${port}`
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections?.()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

/** A 127.0.0.1 URL where nothing listens (a port bound, then released): connecting is refused. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer()
  const url = await listenLocal(server)
  await closeServer(server)
  return url
}

/** Milliseconds a plain GET takes on a fresh connection (no pool): how responsive a server is. */
export function timedGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    get(url, { agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(performance.now() - started))
    }).on('error', reject)
  })
}
