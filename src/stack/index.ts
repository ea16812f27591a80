// `inferwatch up`: the server in this process, Prometheus and Alertmanager as supervised children
// with the generated config under the data dir, and the `--demo` traffic driver.

export { type AlertChange, type AlertWatch, watchAlerts } from './_alert-watch.js'
export { renderBanner, type WatchedEngine, watchedEngine } from './_banner.js'
export { INSTALL_COMMAND, requireStackBinary } from './_binaries.js'
export {
  BURST_CLIENT,
  DEMO_PHASES,
  type DemoOutcome,
  type DemoPhase,
  runDemoDriver,
} from './_demo.js'
export { DEMO_SIM, type DemoTiming, demoConfig, demoTiming } from './_demo-config.js'
export { processStartTicks, readPidFile } from './_pidfiles.js'
export { renderDemoSummary } from './_summary.js'
export { type StackHandle, type StackOptions, startStack } from './start-stack.js'
