// The meter: what each LLM exchange means, recorded as the per-request metrics of README: Metrics.
// It sits behind the seam in types.ts; the proxy calls observe() on each request's arrival.
import { performance } from 'node:perf_hooks'
import type { Registry } from 'prom-client'
import { createAfterIo, createLogger, type Logger } from '../shared/index.js'
import {
  createTokenCounter,
  dialectOfPath,
  type GenerateHint,
  type TokenCounter,
} from '../tokens/index.js'
import {
  type AttributionOptions,
  createClientNamer,
  registerClientMetrics,
} from './_attribution.js'
import { Exchange } from './_exchange.js'
import { type ContextClasses, registerMeterMetrics } from './_metrics.js'
import { type OpenExchange, QueuedObserver } from './_queued.js'
import type { Meter, Provider } from './types.js'

export interface MeterOptions {
  /** Where the gen_ai_* and inferwatch_requests_in_flight metrics are registered. */
  registry: Registry
  contextClasses: ContextClasses
  logger?: Logger
  /** Monotonic clock in ms (the token worker's failure window); performance.now by default. */
  now?: () => number
  /** Shared or injected (tests); the caller then closes it. Default: a lazy Qwen3 token worker,
   * closed with the meter. */
  tokenCounter?: TokenCounter
  /** Bodies up to this size are parsed on the main thread (~0.2 ms); larger ones in the worker. */
  inlineParseMaxBytes?: number
  /** The most of a request or response body kept for parsing (default 16 MiB, the proxy's limit). */
  maxBufferedBytes?: number
  /** The `client` label of inferwatch_client_* (the config's `attribution`). */
  attribution?: AttributionOptions
}

export interface MeterHandle extends Meter {
  /** Resolves once every ended exchange has been recorded (token counts included). */
  settled(): Promise<void>
  readonly tokenCounter: TokenCounter
}

/**
 * Model label: the served names set by setServedModels, anything else `other`, `unknown` when the
 * body names none (or is not JSON). Until the served names are known every named model is `other`,
 * so the label stays bounded whatever clients send (the proxy learns the names at start).
 */
export function boundModelLabel(raw: string | undefined, served: ReadonlySet<string>): string {
  if (raw === undefined) return 'unknown'
  return served.has(raw) ? raw : 'other'
}

export function createMeter(options: MeterOptions): MeterHandle {
  const logger = options.logger ?? createLogger()
  const classes = { ...options.contextClasses }
  let warnedHook = false
  // The hooks queue; the exchanges are worked out after the turn's I/O (_queued.ts). Every read
  // of the meter's metrics runs the queue first, so a scrape sees each hook already called.
  const batch = createAfterIo((err, o) => {
    if (o instanceof QueuedObserver) o.broken = true
    if (warnedHook) return
    warnedHook = true
    logger.warn(
      'meter: a hook threw; the rest of that request is not read, its end is still recorded (further such errors are not logged)',
      { err },
    )
  })
  const metrics = registerMeterMetrics(options.registry, classes, batch.flush)
  const clients = registerClientMetrics(options.registry, batch.flush)
  const namer = createClientNamer(options.attribution)
  const counter =
    options.tokenCounter ??
    createTokenCounter({ logger, now: options.now ?? (() => performance.now()) })
  const ownsCounter = options.tokenCounter === undefined
  let served: ReadonlySet<string> = new Set()
  let provider: Provider | undefined
  const pending = new Set<Promise<void>>()
  let warned = false

  const hint = (): GenerateHint => (provider === 'tgi' || provider === 'sglang' ? provider : 'vllm')

  const ctx = {
    metrics,
    classes,
    counter,
    modelLabel: (raw: string | undefined) => boundModelLabel(raw, served),
    servedProvider: () => provider,
    clients,
    clientOf: namer.clientOf,
    generateHint: hint,
    track(p: Promise<void>) {
      pending.add(p)
      void p.finally(() => pending.delete(p))
    },
    onError(err: unknown) {
      if (warned) return
      warned = true
      logger.warn('meter: an exchange could not be recorded (further such errors are not logged)', {
        err,
      })
    },
    inlineParseMaxBytes: options.inlineParseMaxBytes ?? 64 * 1024,
    maxBufferedBytes: options.maxBufferedBytes ?? 16 * 1024 * 1024,
  }

  /** Every hook called so far worked out and every recording it started finished. */
  async function settled(): Promise<void> {
    batch.flush()
    while (pending.size > 0) {
      await Promise.allSettled([...pending])
      batch.flush()
    }
  }
  const open: OpenExchange = (o) => new Exchange(ctx, o.start, o.path, o.dialect)

  return {
    observe(start) {
      if (start.method !== 'POST') return undefined
      const q = start.url.indexOf('?')
      const path = q === -1 ? start.url : start.url.slice(0, q)
      // One map lookup (the route table in src/tokens/prompt.ts): every other path is forwarded
      // unmetered (README: Metrics).
      const dialect = dialectOfPath(path, hint())
      if (!dialect) return undefined
      return new QueuedObserver(batch, open, start, path, dialect)
    },
    setServedModels(models, p) {
      served = new Set(models)
      provider = p
    },
    settled,
    tokenCounter: counter,
    async close() {
      // Queued hooks first: a prompt they hand to the token counter is counted before it closes.
      batch.flush()
      if (ownsCounter) await counter.close()
      await settled()
    },
  }
}
