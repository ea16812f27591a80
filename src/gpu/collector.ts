import type { Registry } from 'prom-client'
import { createLogger, type Logger } from '../shared/index.js'
import type { ExecFileFn } from './_exec.js'
import { MAX_PROCESS_SERIES, registerGpuMetrics } from './_metrics.js'
import { readGpuSnapshot } from './read.js'
import type { GpuSnapshot } from './types.js'

export interface GpuCollectorOptions {
  /** The server's own registry; the collector adds its gauges and removes them on close(). */
  registry: Registry
  nvidiaSmiPath?: string
  intervalMs?: number
  timeoutMs?: number
  /** Also export inferwatch_gpu_process_memory_bytes (one more nvidia-smi call per interval). */
  processes?: boolean
  maxProcesses?: number
  logger?: Logger
  execFile?: ExecFileFn
  now?: () => number
}

export interface GpuCollector {
  /** Starts polling (first read at once). Cheap and safe without nvidia-smi; idempotent. */
  start(): void
  /** Stops polling, kills an in-flight nvidia-smi, removes the gauges from the registry. */
  close(): Promise<void>
  /** One read now: updates the gauges and returns the snapshot; throws GPU_SMI_FAILED. */
  readOnce(): Promise<GpuSnapshot>
}

type State = 'unknown' | 'up' | 'down'

export function createGpuCollector(options: GpuCollectorOptions): GpuCollector {
  const intervalMs = options.intervalMs ?? 5000
  const timeoutMs = options.timeoutMs ?? Math.min(4000, intervalMs)
  const nvidiaSmiPath = options.nvidiaSmiPath ?? 'nvidia-smi'
  const logger = (options.logger ?? createLogger()).child({ component: 'gpu' })
  const metrics = registerGpuMetrics(options.registry, options.maxProcesses ?? MAX_PROCESS_SERIES)
  const abort = new AbortController()
  let state: State = 'unknown'
  let processState: State = 'unknown'
  let inflight: Promise<GpuSnapshot> | undefined
  let timer: NodeJS.Timeout | undefined
  let loop: Promise<void> | undefined
  let closed = false

  // One log line per state change, never one per interval (a host without a GPU stays quiet).
  const noteFailure = (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err)
    const hint = typeof err === 'object' && err && 'hint' in err ? String(err.hint) : undefined
    if (state !== 'down') {
      logger.warn(`GPU metrics unavailable, inferwatch_gpu_collector_up=0: ${message}`, {
        nvidiaSmiPath,
        ...(hint ? { hint } : {}),
      })
    } else logger.debug('nvidia-smi still failing', { error: message })
    state = 'down'
  }
  const noteSuccess = (snapshot: GpuSnapshot) => {
    const names = snapshot.gpus.map((g) => `${g.index}:${g.name}`).join(', ')
    if (state === 'down')
      logger.info(`GPU metrics recovered: ${snapshot.gpus.length} GPU(s) ${names}`)
    else if (state === 'unknown')
      logger.info(`GPU collector reading ${snapshot.gpus.length} GPU(s) ${names}`)
    state = 'up'
    if (snapshot.processesError !== undefined) {
      if (processState !== 'down')
        logger.warn(`GPU process query failed: ${snapshot.processesError}`)
      processState = 'down'
    } else if (options.processes) {
      if (processState === 'down') logger.info('GPU process query recovered')
      processState = 'up'
    }
  }

  const readOnce = (): Promise<GpuSnapshot> => {
    if (inflight) return inflight
    const run = async () => {
      try {
        const snapshot = await readGpuSnapshot({
          nvidiaSmiPath,
          timeoutMs,
          processes: options.processes ?? false,
          signal: abort.signal,
          ...(options.execFile ? { execFile: options.execFile } : {}),
          ...(options.now ? { now: options.now } : {}),
        })
        if (!closed) {
          metrics.update(snapshot)
          noteSuccess(snapshot)
        }
        return snapshot
      } catch (err) {
        if (!closed) {
          metrics.update(undefined)
          noteFailure(err)
        }
        throw err
      } finally {
        inflight = undefined
      }
    }
    inflight = run()
    return inflight
  }

  const tick = async () => {
    timer = undefined
    try {
      await readOnce()
    } catch {
      // already logged and exported as collector_up 0
    }
    if (!closed) {
      timer = setTimeout(() => {
        loop = tick()
      }, intervalMs)
      timer.unref()
    }
  }

  return {
    start() {
      if (loop || closed) return
      loop = tick()
    },
    async close() {
      if (closed) return
      closed = true
      if (timer) clearTimeout(timer)
      abort.abort()
      await loop
      await inflight?.catch(() => {})
      metrics.unregister()
    },
    readOnce,
  }
}
