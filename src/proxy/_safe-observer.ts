import type { ExchangeObserver, ExchangeOutcome, ExchangeStart, Meter } from '../meter/types.js'
import type { HeaderSource, Logger } from '../shared/index.js'

// Metering is best-effort, forwarding is not (src/meter/types.ts): every hook call is guarded, and
// an observer that throws once is dropped for the rest of its exchange.

export function observeSafely(
  meter: Meter | undefined,
  start: ExchangeStart,
  logger: Logger,
): ExchangeObserver | undefined {
  if (!meter) return undefined
  let inner: ExchangeObserver | undefined
  try {
    inner = meter.observe(start)
  } catch (err) {
    logger.warn('meter.observe threw; this request is not metered', { err })
    return undefined
  }
  return inner ? new SafeObserver(inner, logger) : undefined
}

/** One object per exchange (no closure per hook): this runs on every metered request. */
class SafeObserver implements ExchangeObserver {
  private broken = false

  constructor(
    private readonly obs: ExchangeObserver,
    private readonly logger: Logger,
  ) {}

  private fail(hook: string, err: unknown): void {
    this.broken = true
    this.logger.warn(`meter hook ${hook} threw; this request is no longer metered`, { err })
  }

  requestChunk(chunk: Buffer): void {
    if (this.broken) return
    try {
      this.obs.requestChunk(chunk)
    } catch (err) {
      this.fail('requestChunk', err)
    }
  }

  requestEnd(): void {
    if (this.broken) return
    try {
      this.obs.requestEnd()
    } catch (err) {
      this.fail('requestEnd', err)
    }
  }

  responseHead(status: number, headers: HeaderSource, atMs: number): void {
    if (this.broken) return
    try {
      this.obs.responseHead(status, headers, atMs)
    } catch (err) {
      this.fail('responseHead', err)
    }
  }

  responseChunk(chunk: Buffer, atMs: number): void {
    if (this.broken) return
    try {
      this.obs.responseChunk(chunk, atMs)
    } catch (err) {
      this.fail('responseChunk', err)
    }
  }

  end(outcome: ExchangeOutcome): void {
    if (this.broken) return
    try {
      this.obs.end(outcome)
    } catch (err) {
      this.fail('end', err)
    }
  }
}
