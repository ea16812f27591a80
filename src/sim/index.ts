export { DEFAULT_ENGINE_VERSIONS } from './_dialects.js'
export {
  renderStreamHead,
  renderStreamTail,
  renderStreamToken,
  type ScriptedExchange,
  streamContentType,
} from './_formats.js'
export { parseScriptedRequest, type ScriptedRequest } from './_request.js'
export { quantileFromBuckets, renderMetricsSummary } from './demo-summary.js'
export { type DemoTrafficResult, promptOfTokens, sendDemoTraffic } from './demo-traffic.js'
export { simulatedNvidiaSmi } from './nvidia-smi.js'
export {
  DEFAULT_SCRIPTED_OPTIONS,
  type RecordedRequest,
  type ScriptedEngine,
  type ScriptedEngineOptions,
  type ScriptedFailure,
  type ScriptedGauges,
  scriptedTokenText,
  startScriptedEngine,
} from './scripted-engine.js'
export { startSimulator } from './simulator.js'
export type * from './simulator-types.js'
