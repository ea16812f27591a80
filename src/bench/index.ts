export { loadCorpusAnalysis } from './_corpus-analysis.js'
export { renderReportHtml } from './_html.js'
export { benchJson, runSummaryJson } from './_json.js'
export type { CorpusAnalysis } from './_prompts.js'
export { parseResultFile, type ResultView } from './_result-file.js'
export type { Progress, StopReason } from './_runner.js'
export { renderRun } from './_table.js'
export {
  type CompareRow,
  compareResults,
  readResultFile,
  renderCompareHtml,
  renderCompareTable,
} from './compare.js'
export {
  type BenchOptions,
  type BenchRun,
  type CrossCheck,
  type GaugeSample,
  preparePrompts,
  runBench,
} from './run-bench.js'
export {
  chatScenario,
  longContextScenario,
  readTargetFacts,
  SCENARIOS,
  type ScenarioDefaults,
  type ScenarioName,
  type TargetFacts,
} from './scenarios.js'
export { runSweep, type SweepResult } from './sweep.js'
export type * from './types.js'
export { runName, writeResults } from './write-results.js'
