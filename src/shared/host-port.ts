export interface HostPort {
  host: string
  port: number
}

/** `h:p`, with IPv6 literals in brackets. Parsing lives in src/config (values parsed once). */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
