import { AppError } from './errors.js'

export interface HostPort {
  host: string
  port: number
}

/** Parses `H:P`, `:P` or `[::1]:P`. Port 0 asks the OS for a free one. */
export function parseHostPort(value: string, what: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim())
  const port = m ? Number(m[3]) : Number.NaN
  if (!m || port > 65535) {
    throw new AppError('USAGE', `${what} must be HOST:PORT, got "${value}"`, {
      hint: `for example ${what === '--admin' ? '127.0.0.1:9464' : '0.0.0.0:8080'}`,
    })
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port }
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
