import type { Gauge } from 'prom-client'
import type { HttpUrl } from '../config/index.js'
import {
  createProbeLimiter,
  discoverEngine,
  type EngineInfo,
  type EngineInfoMetric,
  refreshEngineModels,
} from '../engines/index.js'
import type { Meter } from '../meter/index.js'
import type { Logger } from '../shared/index.js'
import type { Readiness } from './_admin.js'
import { createUpstreamHealth } from './_upstream-health.js'

// The engine as the server sees it: a health probe (inferwatch_upstream_up, /readyz) and
// discovery (inferwatch_engine_info, the meter's model allow-list), each on its own timer.
//
// Watching must never slow the engine down for its clients. Small engines serve few connections
// at once (llama.cpp: one per HTTP thread, see src/engines/probe.ts), so every request of the
// watch shares one limiter of MAX_PROBES_IN_FLIGHT and closes its connection after the answer;
// full discovery runs once, and each refresh then asks only GET /v1/models, discovering again
// only when that fails, when the list changes, or when the engine comes back after being down
// (it may have restarted as something else).

/** Requests of the watch in flight at once (health probe and discovery together). */
const MAX_PROBES_IN_FLIGHT = 2

export interface EngineWatchOptions {
  upstream: HttpUrl
  meter: Meter
  upGauge: Gauge<'upstream'>
  engineInfo: EngineInfoMetric
  healthIntervalMs: number
  modelsRefreshMs: number
  logger: Logger
  fetch?: typeof globalThis.fetch
  /** Per health probe (default 2000). */
  healthTimeoutMs?: number
  /** Per discovery probe (default 3000). */
  discoveryTimeoutMs?: number
}

export interface EngineWatch {
  /** Resolves when the first health check has ended and, if it found the engine up, the first discovery. */
  first: Promise<void>
  /** Probes health now (also what /readyz answers). */
  check(): Promise<Readiness>
  /** Runs the health probe and the models refresh (or discovery) now. */
  refresh(): Promise<void>
  /** Stops the timers, aborts what is in flight and waits for it. */
  close(): Promise<void>
}

export function startEngineWatch(options: EngineWatchOptions): EngineWatch {
  const { upstream, meter, upGauge, engineInfo, logger } = options
  const label = upstream.label
  const stopping = new AbortController()
  const shared = {
    limiter: createProbeLimiter(MAX_PROBES_IN_FLIGHT),
    signal: stopping.signal,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  }
  // fetch rejects URLs with credentials: probes go to the base URL without them.
  const health = createUpstreamHealth({
    baseUrl: upstream.base,
    label,
    ...shared,
    ...(options.healthTimeoutMs ? { timeoutMs: options.healthTimeoutMs } : {}),
  })
  const discoverOptions = { ...shared, timeoutMs: options.discoveryTimeoutMs ?? 3000 }
  upGauge.set({ upstream: label }, 0)

  let wasUp: boolean | undefined
  let known: EngineInfo | undefined
  /** Discover in full next time (never discovered, engine back from down, incomplete facts). */
  let stale = true
  let failedBefore = false
  let refreshing: Promise<void> | undefined

  const check = async (): Promise<Readiness> => {
    const r = await health.check()
    if (stopping.signal.aborted) return r
    upGauge.set({ upstream: label }, r.ok ? 1 : 0)
    if (wasUp !== r.ok) {
      if (r.ok) logger.info('upstream is up', { upstream: label })
      else logger.warn('upstream is not ready', { reason: r.reason })
      // Back after being down: it may be another engine, or the same one with other settings.
      if (r.ok && wasUp === false) stale = true
      // An engine that was not up at start is discovered as soon as it is, not a refresh later.
      if (r.ok && stale) void refresh()
    }
    wasUp = r.ok
    return r
  }

  const apply = (info: EngineInfo) => {
    engineInfo.set(info)
    // While the engine loads it lists no models: keep the allow-list we had rather than
    // labelling every request `other` until it is back.
    if (info.models.length > 0) meter.setServedModels(info.models, info.provider)
    if (!known || failedBefore)
      logger.info('engine discovered', {
        engine: info.provider,
        models: info.models.join(','),
        ...(info.version ? { version: info.version } : {}),
        ...(info.maxModelLen ? { maxModelLen: info.maxModelLen } : {}),
      })
    known = info
    failedBefore = false
    // A loading engine lists no models and may lack its context: ask everything again later.
    stale = info.health.status !== 'ok' || info.models.length === 0
  }

  const refreshOnce = async (): Promise<void> => {
    if (known && !stale) {
      const r = await refreshEngineModels(known, discoverOptions)
      if (r.status === 'same' || stopping.signal.aborted) return
      logger.info('rediscovering the engine', {
        why: r.status === 'changed' ? `served models now ${r.models.join(',')}` : r.detail,
      })
    }
    try {
      const info = await discoverEngine(upstream.href, discoverOptions)
      if (!stopping.signal.aborted) apply(info)
    } catch (err) {
      if (stopping.signal.aborted) return
      if (!failedBefore) logger.warn('engine discovery failed; will retry', { err })
      failedBefore = true
      stale = true
    }
  }

  const refresh = (): Promise<void> => {
    refreshing ??= refreshOnce().finally(() => {
      refreshing = undefined
    })
    return refreshing
  }

  const healthLoop = every(options.healthIntervalMs, check)
  const refreshLoop = every(options.modelsRefreshMs, refresh)
  return {
    // Clients are let in once the engine is known; an engine that is not up is discovered in the
    // background (a hung one takes discovery several probe timeouts).
    first: healthLoop.first.then(() => (wasUp ? refreshLoop.first : undefined)),
    check,
    refresh: async () => {
      await Promise.all([check(), refresh()])
    },
    close: async () => {
      stopping.abort()
      await Promise.all([healthLoop.stop(), refreshLoop.stop(), refreshing])
    },
  }
}

/** Runs `fn` now and then every `intervalMs` (never overlapping); timers do not hold the process. */
function every(
  intervalMs: number,
  fn: () => Promise<unknown>,
): { first: Promise<void>; stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let running: Promise<void> | undefined
  const tick = async () => {
    timer = undefined
    try {
      await fn()
    } catch {}
    if (!stopped) {
      timer = setTimeout(() => {
        running = tick()
      }, intervalMs)
      timer.unref()
    }
  }
  running = tick()
  return {
    first: running,
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
    },
  }
}
