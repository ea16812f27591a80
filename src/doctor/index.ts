// `inferwatch doctor`: ordered end-to-end checks of a deployment, each with a fix.
export { CONTRACT_ALERTS, thresholdOf } from './_prometheus-checks.js'
export { renderDoctorReport } from './render.js'
export { runDoctor } from './run-doctor.js'
export type {
  CheckStatus,
  DoctorCheck,
  DoctorOptions,
  DoctorReport,
  KvEstimate,
} from './types.js'
