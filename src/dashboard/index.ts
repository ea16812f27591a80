// The admin dashboard (README: Dashboard): the page at `/` on the admin server, its assets, and
// a read-only query API limited to the page's own PromQL.
export {
  createDashboard,
  type Dashboard,
  type DashboardOptions,
  type DashboardRoute,
} from './dashboard.js'
