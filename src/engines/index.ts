export { discoverEngine, normalizeBaseUrl } from './discover.js'
export { type EngineInfoMetric, registerEngineInfo } from './engine-info-metric.js'
export {
  createProbeLimiter,
  type FetchFn,
  joinUrl,
  type ProbeFailure,
  type ProbeLimiter,
  type ProbeOptions,
  type ProbeResult,
  probeUrl,
} from './probe.js'
export {
  detectMetricPrefixes,
  findSamples,
  type PromExposition,
  type PromMetadata,
  type PromMetricType,
  type PromSample,
  parsePrometheusText,
} from './prom-text.js'
export { type ModelsRefresh, refreshEngineModels } from './refresh.js'
export type {
  DiscoverOptions,
  EngineHealth,
  EngineHealthStatus,
  EngineInfo,
  EngineMetricsInfo,
  EngineProvider,
} from './types.js'
