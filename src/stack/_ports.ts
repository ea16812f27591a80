import { createServer } from 'node:net'
import { AppError, formatHostPort, type HostPort } from '../shared/index.js'

/** A port that `up` listens on, with what moves it (README: inferwatch up). */
export interface PortNeed {
  what: string
  at: HostPort
  flag: string
  key: string
}

/** Binds `host:port` and lets go: resolves the port (a free one for 0), or rejects with the errno. */
export async function probePort(at: HostPort): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port: at.port, host: at.host, exclusive: true }, () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : at.port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Every fixed port is free, or STACK_PORT_IN_USE naming the flag and key that move it. */
export async function checkPorts(needs: readonly PortNeed[]): Promise<void> {
  for (const need of needs) {
    if (need.at.port === 0) continue
    try {
      await probePort(need.at)
    } catch (cause) {
      throw portError(need, cause)
    }
  }
}

export function portError(need: PortNeed, cause: unknown): AppError {
  const at = formatHostPort(need.at)
  const code = (cause as NodeJS.ErrnoException).code
  const inUse = code === 'EADDRINUSE'
  return new AppError(
    'STACK_PORT_IN_USE',
    `${need.what} cannot listen on ${at}: ${inUse ? 'the port is in use' : (code ?? String(cause))}`,
    {
      cause,
      hint: `${inUse ? `stop what uses it (\`ss -ltnp 'sport = :${need.at.port}'\` shows it), or ` : ''}move it with ${need.flag} H:P or \`${need.key}\` in the config (port 0 picks a free one)`,
    },
  )
}

/** A free port on `host` for a child that cannot be told to pick one itself. */
export function freePort(host: string): Promise<number> {
  return probePort({ host, port: 0 })
}
