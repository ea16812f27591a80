export {
  type ProxyServiceDeps,
  type ProxyServiceHandle,
  startProxyService,
} from './start-proxy-service.js'
