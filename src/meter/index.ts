export { type AttributionOptions, bearerClientId } from './_attribution.js'
export {
  type ContextClasses,
  LATENCY_BUCKETS_SECONDS,
  TOKEN_BUCKETS,
  TPOT_BUCKETS_SECONDS,
  tokenBuckets,
} from './_metrics.js'
export { boundModelLabel, createMeter, type MeterHandle, type MeterOptions } from './meter.js'
export type {
  ContextClass,
  ErrorType,
  ExchangeObserver,
  ExchangeOutcome,
  ExchangeStart,
  Meter,
  Operation,
  Provider,
} from './types.js'
