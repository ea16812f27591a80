import { Gauge, Registry } from 'prom-client'
import type { Config } from '../config/index.js'
import { discoverEngine, registerEngineInfo } from '../engines/index.js'
import { createGpuCollector, type ExecFileFn, type GpuCollector } from '../gpu/index.js'
import { createMeter, type Meter } from '../meter/index.js'
import { type ProxyHandle, parseUpstreamUrl, startProxy } from '../proxy/index.js'
import { createAlertmanagerHook } from '../relay/index.js'
import {
  createLogger,
  type Logger,
  parseHostPort,
  readVersion,
  redactUrl,
} from '../shared/index.js'
import { type AdminRoute, type AdminServerHandle, startAdminServer } from './_admin.js'
import { createUpstreamHealth } from './_upstream-health.js'

export interface ProxyServiceDeps {
  logger?: Logger
  fetch?: typeof globalThis.fetch
  /** Replaces the meter from src/meter (tests). */
  meter?: Meter
  /** nvidia-smi runner for the GPU collector (tests). */
  execFile?: ExecFileFn
  /** Extra admin routes (dashboard, API). */
  routes?: readonly AdminRoute[]
  version?: string
}

export interface ProxyServiceHandle {
  proxyUrl: string
  adminUrl: string
  registry: Registry
  proxy: ProxyHandle
  admin: AdminServerHandle
  /** Resolves when no exchange is in flight and the meter recorded every ended one (bounded). */
  settled(timeoutMs?: number): Promise<void>
  /** Runs the health probe and engine discovery now (they also run on their timers). */
  refresh(): Promise<void>
  /** Stops accepting, drains in-flight streams up to proxy.drainTimeoutMs, then stops the rest. */
  close(): Promise<void>
}

/** What `inferwatch proxy` runs: metrics registry, meter, proxy, admin server, probes, GPU. */
export async function startProxyService(
  config: Readonly<Config>,
  deps: ProxyServiceDeps = {},
): Promise<ProxyServiceHandle> {
  const logger = deps.logger ?? createLogger()
  const upstream = parseUpstreamUrl(config.upstream).href
  // Labels and logs never carry credentials from the URL.
  const upstreamLabel = redactUrl(upstream).replace(/\/$/, '')
  const listen = parseHostPort(config.listen, '--listen')
  const adminAt = parseHostPort(config.admin, '--admin')

  const registry = new Registry()
  new Gauge({
    name: 'inferwatch_build_info',
    help: 'inferwatch build: always 1, labelled with the version.',
    labelNames: ['version'] as const,
    registers: [registry],
  }).set({ version: deps.version ?? readVersion() }, 1)
  const upGauge = new Gauge({
    name: 'inferwatch_upstream_up',
    help: "1 when the engine's health endpoint answers 2xx, else 0.",
    labelNames: ['upstream'] as const,
    registers: [registry],
  })
  upGauge.set({ upstream: upstreamLabel }, 0)
  const engineInfo = registerEngineInfo(registry)

  const ownMeter = deps.meter
    ? undefined
    : createMeter({ registry, contextClasses: config.contextClasses, logger })
  const meter: Meter = deps.meter ?? (ownMeter as Meter)
  const cleanups: (() => Promise<void>)[] = []
  const closeAll = async () => {
    for (const c of cleanups.reverse())
      await c().catch((err: unknown) => logger.warn('close failed', { err }))
  }
  try {
    const proxy = await startProxy({
      upstream,
      host: listen.host,
      port: listen.port,
      meter,
      registry,
      upstreamTimeoutMs: config.proxy.upstreamTimeoutMs,
      maxBodyBytes: config.proxy.maxBodyBytes,
      logger,
    })
    cleanups.push(() => proxy.close({ drainTimeoutMs: config.proxy.drainTimeoutMs }))
    cleanups.unshift(() => meter.close())

    const target = new URL(upstream)
    const health = createUpstreamHealth({
      // fetch rejects URLs with credentials; probes go without them (as discovery does).
      baseUrl: `${target.origin}${target.pathname.replace(/\/+$/, '')}`,
      label: upstreamLabel,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    })
    let wasUp: boolean | undefined
    const checkHealth = async () => {
      const r = await health.check()
      upGauge.set({ upstream: upstreamLabel }, r.ok ? 1 : 0)
      if (wasUp !== r.ok) {
        if (r.ok) logger.info('upstream is up', { upstream: upstreamLabel })
        else logger.warn('upstream is not ready', { reason: r.reason })
      }
      wasUp = r.ok
      // An engine that was not up at start is discovered as soon as it is, not a refresh later.
      if (r.ok && discoveredOnce !== true && !discovering) void discover()
      return r
    }
    let discoveredOnce: boolean | undefined
    let discovering = false
    const discover = async () => {
      discovering = true
      try {
        const info = await discoverEngine(upstream, {
          timeoutMs: 3000,
          ...(deps.fetch ? { fetch: deps.fetch } : {}),
        })
        engineInfo.set(info)
        // While the engine loads it lists no models: keep the allowlist we had rather than
        // labelling every request `other` until it is back.
        if (info.models.length > 0) meter.setServedModels(info.models, info.provider)
        if (discoveredOnce !== true) {
          logger.info('engine discovered', {
            engine: info.provider,
            models: info.models.join(','),
            ...(info.maxModelLen ? { maxModelLen: info.maxModelLen } : {}),
          })
        }
        discoveredOnce = true
      } catch (err) {
        if (discoveredOnce !== false) logger.warn('engine discovery failed; will retry', { err })
        discoveredOnce = false
      } finally {
        discovering = false
      }
    }
    const healthLoop = every(config.proxy.healthIntervalMs, checkHealth)
    const discoverLoop = every(config.proxy.modelsRefreshMs, discover)
    cleanups.push(async () => {
      healthLoop.stop()
      discoverLoop.stop()
    })

    let gpu: GpuCollector | undefined
    if (config.gpu.enabled) {
      gpu = createGpuCollector({
        registry,
        nvidiaSmiPath: config.gpu.nvidiaSmiPath,
        intervalMs: config.gpu.intervalMs,
        timeoutMs: config.gpu.timeoutMs,
        processes: config.gpu.processes,
        maxProcesses: config.gpu.maxProcesses,
        logger,
        ...(deps.execFile ? { execFile: deps.execFile } : {}),
      })
      gpu.start()
      const g = gpu
      cleanups.push(() => g.close())
    }

    const routes: AdminRoute[] = [...(deps.routes ?? [])]
    // Always mounted: the generated alertmanager.yml posts here, and a hook without channels
    // answers and logs what to configure rather than a 404 that Alertmanager never retries.
    // On the admin server the admin token guards it; Alertmanager sends one Authorization
    // header, so a second, different hookToken would refuse every post.
    const hookConfig = config.adminToken ? { ...config.relay, hookToken: undefined } : config.relay
    const hook = createAlertmanagerHook({ config: hookConfig, registry, logger })
    cleanups.push(() => hook.close())
    routes.push({ method: 'POST', path: '/hooks/alertmanager', handler: hook.handler })
    const admin = await startAdminServer({
      host: adminAt.host,
      port: adminAt.port,
      registry,
      token: config.adminToken,
      routes,
      ready: checkHealth,
      logger,
    })
    // The admin server goes last, so /metrics stays scrapable while the proxy drains.
    cleanups.unshift(() => admin.close())

    await Promise.all([healthLoop.first, discoverLoop.first])
    let closing: Promise<void> | undefined
    return {
      proxyUrl: proxy.url,
      adminUrl: admin.url,
      registry,
      proxy,
      admin,
      settled: async (timeoutMs = 5000) => {
        const deadline = Date.now() + timeoutMs
        while (proxy.inFlight() > 0 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 5))
        if (ownMeter) {
          let timer: NodeJS.Timeout | undefined
          await Promise.race([
            ownMeter.settled(),
            new Promise((r) => {
              timer = setTimeout(r, Math.max(0, deadline - Date.now()))
            }),
          ])
          // A pending bound would keep the process alive long after the answer.
          clearTimeout(timer)
        }
      },
      refresh: async () => {
        await Promise.all([checkHealth(), discover()])
      },
      close: () => {
        closing ??= closeAll()
        return closing
      },
    }
  } catch (err) {
    await closeAll()
    throw err
  }
}

/** Runs `fn` now and then every `intervalMs` (never overlapping); timers do not hold the process. */
function every(
  intervalMs: number,
  fn: () => Promise<unknown>,
): { first: Promise<void>; stop(): void } {
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const tick = async () => {
    try {
      await fn()
    } catch {}
    if (!stopped) {
      timer = setTimeout(tick, intervalMs)
      timer.unref()
    }
  }
  return {
    first: tick(),
    stop() {
      stopped = true
      if (timer) clearTimeout(timer)
    },
  }
}
