import type { ServerResponse } from 'node:http'

export type ProxyErrorType =
  | 'upstream_unreachable'
  | 'upstream_timeout'
  | 'upstream_reset'
  | 'request_too_large'
  | 'request_not_forwardable'

/** An OpenAI-style error body (`{"error":{"message","type","code"}}`) that clients already parse. */
export function sendJsonError(
  res: ServerResponse,
  status: number,
  code: ProxyErrorType,
  message: string,
  closeConnection = false,
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy()
    return
  }
  const body = JSON.stringify({
    error: {
      message,
      type: status >= 500 ? 'server_error' : 'invalid_request_error',
      code,
    },
  })
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-inferwatch-error': code,
  }
  if (closeConnection) headers.connection = 'close'
  res.writeHead(status, headers)
  res.end(body)
}
