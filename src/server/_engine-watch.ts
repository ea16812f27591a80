import type { Gauge } from 'prom-client'
import type { HttpUrl } from '../config/index.js'
import { discoverEngine, type EngineInfoMetric } from '../engines/index.js'
import type { Meter } from '../meter/index.js'
import type { Logger } from '../shared/index.js'
import type { Readiness } from './_admin.js'
import { createUpstreamHealth } from './_upstream-health.js'

// The engine as the server sees it: a health probe (inferwatch_upstream_up, /readyz) and
// discovery (inferwatch_engine_info, the meter's model allow-list), each on its own timer.

export interface EngineWatchOptions {
  upstream: HttpUrl
  meter: Meter
  upGauge: Gauge<'upstream'>
  engineInfo: EngineInfoMetric
  healthIntervalMs: number
  modelsRefreshMs: number
  logger: Logger
  fetch?: typeof globalThis.fetch
}

export interface EngineWatch {
  /** Resolves when the first health check and the first discovery have ended. */
  first: Promise<void>
  /** Probes health now (also what /readyz answers). */
  check(): Promise<Readiness>
  /** Runs the health probe and discovery now. */
  refresh(): Promise<void>
  close(): Promise<void>
}

export function startEngineWatch(options: EngineWatchOptions): EngineWatch {
  const { upstream, meter, upGauge, engineInfo, logger } = options
  const label = upstream.label
  const fetchOption = options.fetch ? { fetch: options.fetch } : {}
  // fetch rejects URLs with credentials: probes go to the base URL without them.
  const health = createUpstreamHealth({ baseUrl: upstream.base, label, ...fetchOption })
  upGauge.set({ upstream: label }, 0)

  let wasUp: boolean | undefined
  let discoveredOnce: boolean | undefined
  let discovering = false

  const check = async (): Promise<Readiness> => {
    const r = await health.check()
    upGauge.set({ upstream: label }, r.ok ? 1 : 0)
    if (wasUp !== r.ok) {
      if (r.ok) logger.info('upstream is up', { upstream: label })
      else logger.warn('upstream is not ready', { reason: r.reason })
    }
    wasUp = r.ok
    // An engine that was not up at start is discovered as soon as it is, not a refresh later.
    if (r.ok && discoveredOnce !== true && !discovering) void discover()
    return r
  }

  const discover = async (): Promise<void> => {
    discovering = true
    try {
      const info = await discoverEngine(upstream.href, { timeoutMs: 3000, ...fetchOption })
      engineInfo.set(info)
      // While the engine loads it lists no models: keep the allow-list we had rather than
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

  const healthLoop = every(options.healthIntervalMs, check)
  const discoverLoop = every(options.modelsRefreshMs, discover)
  return {
    first: Promise.all([healthLoop.first, discoverLoop.first]).then(() => {}),
    check,
    refresh: async () => {
      await Promise.all([check(), discover()])
    },
    close: async () => {
      healthLoop.stop()
      discoverLoop.stop()
    },
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
