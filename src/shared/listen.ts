import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ErrorCode } from './error-codes.js'
import { AppError } from './errors.js'
import { formatHostPort, type HostPort } from './host-port.js'

export interface ListenSpec extends HostPort {
  /** Who listens, for the message: `proxy`, `admin server`, `relay`. */
  what: string
  /** This server's own code, so callers and users can tell which listener failed. */
  code: ErrorCode
  /** The flag that sets the address, named in the hint (`--listen`, `--admin`). */
  flag: string
}

export interface Listening {
  /** A URL a client on this host can use (0.0.0.0 shown as 127.0.0.1, :: as ::1). */
  url: string
  host: string
  port: number
}

/** Listens, or throws `spec.code` naming the address and what to do (EADDRINUSE told apart). */
export async function listenHttp(server: Server, spec: ListenSpec): Promise<Listening> {
  const { host } = spec
  await new Promise<void>((resolve, reject) => {
    const onError = (cause: NodeJS.ErrnoException) => {
      const at = formatHostPort({ host, port: spec.port })
      reject(
        new AppError(
          spec.code,
          `${spec.what} cannot listen on ${at}: ${cause.code ?? cause.message}`,
          {
            cause,
            hint:
              cause.code === 'EADDRINUSE'
                ? `another process uses ${at}: pick another ${spec.flag} or stop that process`
                : `check the ${spec.flag} address`,
          },
        ),
      )
    }
    server.once('error', onError)
    server.listen(spec.port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  return { url: `http://${formatHostPort({ host: shownHost(host), port })}`, host, port }
}

/** Stops accepting and ends every connection, idle or not. */
export async function closeHttpServer(server: Server): Promise<void> {
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeAllConnections()
  await stopped
}

function shownHost(host: string): string {
  return host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
}
