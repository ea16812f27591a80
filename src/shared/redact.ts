// Secrets arrive in URLs (DingTalk access_token, WeCom key, Feishu hook ids, Slack hook paths)
// and in headers. They must never reach logs or metrics.
const QUERY_SECRET = /([?&](?:access_token|key|token|secret|sign|api[_-]?key)=)[^&\s"']+/gi
const BEARER = /(\bBearer\s+)[A-Za-z0-9._~+/=-]+/gi
const HOOK_PATH =
  /(hooks\.slack\.com\/services\/|open\.(?:feishu\.cn|larksuite\.com)\/open-apis\/bot\/v2\/hook\/)[^\s"'?]+/gi

export function redactSecrets(text: string): string {
  return text.replace(QUERY_SECRET, '$1***').replace(BEARER, '$1***').replace(HOOK_PATH, '$1***')
}

/** A URL safe to print: credentials, query string values and known secret paths masked. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.username || u.password) {
      u.username = '***'
      u.password = ''
    }
    for (const key of [...u.searchParams.keys()]) u.searchParams.set(key, '***')
    return redactSecrets(u.toString()).replace(/%2A%2A%2A/g, '***')
  } catch {
    return redactSecrets(url)
  }
}
