import type { ExchangeObserver, ExchangeStart, Meter } from '../meter/types.js'
import type { Logger } from '../shared/index.js'

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
  if (!inner) return undefined
  const obs = inner
  let broken = false
  const fail = (hook: string, err: unknown) => {
    broken = true
    logger.warn(`meter hook ${hook} threw; this request is no longer metered`, { err })
  }
  return {
    requestChunk(chunk) {
      if (broken) return
      try {
        obs.requestChunk(chunk)
      } catch (err) {
        fail('requestChunk', err)
      }
    },
    requestEnd() {
      if (broken) return
      try {
        obs.requestEnd()
      } catch (err) {
        fail('requestEnd', err)
      }
    },
    responseHead(status, headers, atMs) {
      if (broken) return
      try {
        obs.responseHead(status, headers, atMs)
      } catch (err) {
        fail('responseHead', err)
      }
    },
    responseChunk(chunk, atMs) {
      if (broken) return
      try {
        obs.responseChunk(chunk, atMs)
      } catch (err) {
        fail('responseChunk', err)
      }
    },
    end(outcome) {
      if (broken) return
      try {
        obs.end(outcome)
      } catch (err) {
        fail('end', err)
      }
    },
  }
}
