import { isAppError } from '../shared/index.js'
import { checkAdmin, checkAlertmanager } from './_alertmanager-checks.js'
import { checkAlertInputs } from './_data-check.js'
import { checkEngine, type EngineChecks } from './_engine-checks.js'
import { checkGpus, checkGpuThreshold, checkKvCapacity } from './_gpu-checks.js'
import { checkEngineLog } from './_log-check.js'
import { estimateKvWithPlan } from './_plan-estimate.js'
import { checkPrometheus } from './_prometheus-checks.js'
import type { CheckStatus, DoctorCheck, DoctorOptions, DoctorReport } from './types.js'

/** The default GPU-memory alert: > 92 % for 30 s (README: Prometheus rules and alerts). */
const DEFAULT_GPU_ALERT_RATIO = 0.92

/**
 * Checks the deployment end to end, in a fixed order: the engine (answers, its log, identified, /metrics,
 * a real completion), the inferwatch admin, Prometheus (targets, rules, alert inputs, Alertmanager wiring),
 * Alertmanager's relay receiver, GPUs, KV capacity and the GPU-memory threshold.
 * Never throws for a broken deployment: every problem is a failed check with its fix.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const configured = options.gpuMemoryAlertRatio ?? DEFAULT_GPU_ALERT_RATIO
  const [engine, admin, prom, am] = await Promise.all([
    checkEngine(options).catch((err: unknown): EngineChecks => {
      if (!isAppError(err)) throw err
      return {
        checks: [
          {
            id: 'engine.answers',
            title: 'engine answers and is healthy',
            status: 'fail',
            finding: err.message,
            ...(err.hint ? { fix: err.hint } : {}),
          },
        ],
      }
    }),
    checkAdmin(options),
    checkPrometheus(options),
    checkAlertmanager(options),
  ])
  const threshold =
    prom.deployedGpuThreshold !== undefined
      ? { ratio: prom.deployedGpuThreshold, source: 'the rule loaded in Prometheus' }
      : {
          ratio: configured,
          source:
            options.gpuMemoryAlertRatio === undefined
              ? 'default'
              : 'config alerts.gpuMemoryHigh.ratio',
        }
  const rulesLoaded = prom.checks.some((c) => c.id === 'prometheus.rules' && c.status === 'pass')
  const [gpu, data] = await Promise.all([
    checkGpus(options, threshold.ratio),
    checkAlertInputs(options, engine.engine?.provider, rulesLoaded),
  ])
  const [answers, ...engineRest] = engine.checks
  const checks: DoctorCheck[] = [
    ...(answers ? [answers] : []),
    checkEngineLog(options.engineLog, answers?.status === 'pass'),
    ...engineRest,
    admin,
    ...prom.checks,
    data,
    am,
    gpu.check,
    checkKvCapacity(engine.engine, gpu.snapshot, {
      ...options,
      estimateKv:
        options.estimateKv ?? ((e, g) => estimateKvWithPlan(e, g, options.gpuMemoryUtilization)),
    }),
    checkGpuThreshold(engine.engine, threshold, options),
  ]
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 }
  for (const c of checks) counts[c.status]++
  const report: DoctorReport = { ok: counts.fail === 0, upstream: options.upstream, checks, counts }
  if (engine.engine) report.engine = engine.engine
  return report
}
