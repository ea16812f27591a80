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
export {
  DEFAULT_ENGINE_VERSION,
  resolveSimulatorPlan,
  simulatedNvidiaSmi,
  startSimulator,
} from './engine-sim/start-simulator.js'
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
export type * from './simulator-types.js'
