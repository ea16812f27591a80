export {
  type AdminHandler,
  type AdminRoute,
  type AdminServerHandle,
  type AdminServerOptions,
  type Readiness,
  sendError,
  startAdminServer,
} from './start-admin-server.js'
