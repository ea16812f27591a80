export {
  type AdminHandler,
  type AdminRoute,
  type AdminServerHandle,
  type AdminServerOptions,
  type Readiness,
  sendError,
  startAdminServer,
} from './_admin.js'
export {
  type ProxyServiceDeps,
  type ProxyServiceHandle,
  startProxyService,
} from './start-server.js'
