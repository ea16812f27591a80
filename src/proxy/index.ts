export { forwardableHeaders, isHopByHop } from './_headers.js'
export {
  OVERHEAD_BUCKETS_SECONDS,
  type ProxyHandle,
  type ProxyOptions,
  parseUpstreamUrl,
  startProxy,
} from './start-proxy.js'
