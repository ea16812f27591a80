import { parseConfig } from '../config/index.js'
import {
  type ProxyServiceDeps,
  type ProxyServiceHandle,
  startProxyService,
} from '../server/index.js'

/**
 * `inferwatch proxy` as a test runs it: the real service in front of `upstream`, proxy and admin on
 * free loopback ports, no GPU collector, `config` merged over that as a user's inferwatch.yaml
 * would be; closed when the test ends.
 */
export async function startTestProxyService(
  t: { after(fn: () => unknown): void },
  upstream: string,
  config: Record<string, unknown> = {},
  deps: ProxyServiceDeps = {},
): Promise<ProxyServiceHandle> {
  const service = await startProxyService(
    parseConfig({
      upstream,
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      gpu: { enabled: false },
      ...config,
    }),
    deps,
  )
  t.after(() => service.close())
  return service
}
