import { Gauge, Registry } from 'prom-client'
import type { Config } from '../config/index.js'
import { createDashboard } from '../dashboard/index.js'
import { registerEngineInfo } from '../engines/index.js'
import { createGpuCollector, type ExecFileFn } from '../gpu/index.js'
import { createMeter, type Meter } from '../meter/index.js'
import { type ProxyHandle, startProxy } from '../proxy/index.js'
import { createAlertmanagerHook, HOOK_PATH } from '../relay/index.js'
import { createLogger, type Logger, readVersion } from '../shared/index.js'
import { type AdminRoute, type AdminServerHandle, startAdminServer } from './_admin.js'
import { startEngineWatch } from './_engine-watch.js'

export interface ProxyServiceDeps {
  logger?: Logger
  fetch?: typeof globalThis.fetch
  /** Replaces the meter from src/meter (tests); the caller closes it. */
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

/**
 * What `inferwatch proxy` runs, in this order: metrics registry, meter, relay hook, engine watch
 * (health + discovery), admin server, GPU collector, and last the proxy, so clients are let in
 * only once everything that observes them runs. Closing goes in exactly the reverse order: the
 * proxy drains first while /metrics is still served and the meter still records.
 */
export async function startProxyService(
  config: Readonly<Config>,
  deps: ProxyServiceDeps = {},
): Promise<ProxyServiceHandle> {
  const logger = deps.logger ?? createLogger()
  const parts = createCloseList(logger)
  try {
    const registry = createServerRegistry(deps.version ?? readVersion())

    const ownMeter = deps.meter
      ? undefined
      : parts.add(
          createMeter({
            registry,
            contextClasses: config.contextClasses,
            logger,
            attribution: config.attribution,
          }),
        )
    const meter: Meter = deps.meter ?? (ownMeter as Meter)

    // Always mounted: the generated alertmanager.yml posts here, and a hook without channels
    // answers and logs what to configure rather than a 404 that Alertmanager never retries.
    // On the admin server the admin token guards it; Alertmanager sends one Authorization
    // header, so a second, different hookToken would refuse every post.
    const hookConfig = config.adminToken ? { ...config.relay, hookToken: undefined } : config.relay
    const hook = parts.add(createAlertmanagerHook({ config: hookConfig, registry, logger }))

    const watch = parts.add(
      startEngineWatch({
        upstream: config.upstream,
        meter,
        upGauge: new Gauge({
          name: 'inferwatch_upstream_up',
          help: "1 when the engine's health endpoint answers 2xx, else 0.",
          labelNames: ['upstream'] as const,
          registers: [registry],
        }),
        engineInfo: registerEngineInfo(registry),
        healthIntervalMs: config.proxy.healthIntervalMs,
        modelsRefreshMs: config.proxy.modelsRefreshMs,
        logger,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      }),
    )

    // The page at `/` and its read-only API on Prometheus (config prometheus.url), or on this
    // registry when no Prometheus answers (README: Dashboard).
    const dashboard = config.dashboard.enabled
      ? parts.add(
          createDashboard({
            config,
            registry,
            logger,
            ...(deps.fetch ? { fetch: deps.fetch } : {}),
          }),
        )
      : undefined

    const admin = parts.add(
      await startAdminServer({
        ...config.admin,
        registry,
        token: config.adminToken,
        routes: [
          ...(dashboard?.routes ?? []),
          ...(deps.routes ?? []),
          { method: 'POST', path: HOOK_PATH, handler: hook.handler },
        ],
        ready: watch.check,
        ...(dashboard ? { accepts: dashboard.accepts } : {}),
        logger,
      }),
    )

    if (config.gpu.enabled) {
      const gpu = parts.add(
        createGpuCollector({
          registry,
          nvidiaSmiPath: config.gpu.nvidiaSmiPath,
          intervalMs: config.gpu.intervalMs,
          timeoutMs: config.gpu.timeoutMs,
          processes: config.gpu.processes,
          maxProcesses: config.gpu.maxProcesses,
          logger,
          ...(deps.execFile ? { execFile: deps.execFile } : {}),
        }),
      )
      gpu.start()
    }

    const proxy = await startProxy({
      upstream: config.upstream,
      ...config.listen,
      meter,
      registry,
      upstreamTimeoutMs: config.proxy.upstreamTimeoutMs,
      maxBodyBytes: config.proxy.maxBodyBytes,
      logger,
    })
    parts.add({ close: () => proxy.close({ drainTimeoutMs: config.proxy.drainTimeoutMs }) })

    await watch.first
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
        if (ownMeter) await withDeadline(ownMeter.settled(), deadline)
      },
      refresh: watch.refresh,
      close: parts.closeAll,
    }
  } catch (err) {
    await parts.closeAll()
    throw err
  }
}

function createServerRegistry(version: string): Registry {
  const registry = new Registry()
  new Gauge({
    name: 'inferwatch_build_info',
    help: 'inferwatch build: always 1, labelled with the version.',
    labelNames: ['version'] as const,
    registers: [registry],
  }).set({ version }, 1)
  return registry
}

interface Closable {
  close(): Promise<void>
}

/** What has started, closed in the reverse order of `add` (once; later calls share it). */
function createCloseList(logger: Logger) {
  const started: Closable[] = []
  let closing: Promise<void> | undefined
  return {
    add<T extends Closable>(part: T): T {
      started.push(part)
      return part
    },
    closeAll(): Promise<void> {
      closing ??= (async () => {
        for (const part of started.reverse())
          await part.close().catch((err: unknown) => logger.warn('close failed', { err }))
      })()
      return closing
    },
  }
}

/** Waits for `p` until the deadline; a pending bound must not keep the process alive. */
async function withDeadline(p: Promise<unknown>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    p,
    new Promise((r) => {
      timer = setTimeout(r, Math.max(0, deadline - Date.now()))
    }),
  ])
  clearTimeout(timer)
}
