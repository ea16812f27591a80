export { forwardableHeaders, isHopByHop } from './_headers.js'
export {
  OVERHEAD_BUCKETS_SECONDS,
  type ProxyHandle,
  type ProxyOptions,
  startProxy,
} from './start-proxy.js'
