export { quantileFromBuckets, renderMetricsSummary } from './demo-summary.js'
export { type DemoTrafficResult, promptOfTokens, sendDemoTraffic } from './demo-traffic.js'
export {
  type ProxyServiceDeps,
  type ProxyServiceHandle,
  startProxyService,
} from './start-proxy-service.js'
