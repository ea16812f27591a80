import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Config } from '../config/index.js'
import {
  checkRulesPlan,
  type PlanOverrides,
  planRules,
  RULES_FILE,
  renderAlertmanagerConfig,
  renderPrometheusConfig,
  renderRuleFile,
} from '../rules/index.js'
import { AppError } from '../shared/index.js'

// What `up` writes under the data dir (README: inferwatch up):
//   prometheus/prometheus.yml, prometheus/rules/inferwatch.rules.yml, prometheus/data/ (TSDB)
//   alertmanager/alertmanager.yml, alertmanager/data/
//   prometheus.log, alertmanager.log, *.pid, notifications.log

export interface StackPaths {
  dataDir: string
  prometheusDir: string
  prometheusConfig: string
  prometheusData: string
  alertmanagerDir: string
  alertmanagerConfig: string
  alertmanagerData: string
  notifications: string
}

export function stackPaths(dataDir: string): StackPaths {
  const prometheusDir = join(dataDir, 'prometheus')
  const alertmanagerDir = join(dataDir, 'alertmanager')
  return {
    dataDir,
    prometheusDir,
    prometheusConfig: join(prometheusDir, 'prometheus.yml'),
    prometheusData: join(prometheusDir, 'data'),
    alertmanagerDir,
    alertmanagerConfig: join(alertmanagerDir, 'alertmanager.yml'),
    alertmanagerData: join(alertmanagerDir, 'data'),
    notifications: join(dataDir, 'notifications.log'),
  }
}

export function makeDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(join(dataDir, '.write-test'), '')
    rmSync(join(dataDir, '.write-test'))
  } catch (cause) {
    throw new AppError(
      'STACK_DATA_DIR',
      `cannot use ${dataDir} as the data dir: ${(cause as Error).message}`,
      { cause, hint: 'pick a writable --data-dir (default ./.inferwatch)' },
    )
  }
}

export interface RenderedStackFiles {
  warnings: string[]
  /** Files written (absolute), in order. */
  files: string[]
}

/** Renders prometheus.yml + rules and/or alertmanager.yml from `config`, each file atomically. */
export function writeStackFiles(
  config: Readonly<Config>,
  paths: StackPaths,
  which: { prometheus: boolean; alertmanager: boolean },
  overrides: PlanOverrides = {},
): RenderedStackFiles {
  const plan = planRules(config, overrides)
  const files: [string, string][] = []
  if (which.prometheus) {
    files.push([paths.prometheusConfig, renderPrometheusConfig(plan)])
    files.push([join(paths.prometheusDir, RULES_FILE), renderRuleFile(plan)])
  }
  if (which.alertmanager) files.push([paths.alertmanagerConfig, renderAlertmanagerConfig(plan)])
  for (const [path, text] of files) {
    try {
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(`${path}.tmp`, text)
      renameSync(`${path}.tmp`, path)
    } catch (cause) {
      throw new AppError('STACK_DATA_DIR', `cannot write ${path}: ${(cause as Error).message}`, {
        cause,
        hint: 'pick a writable --data-dir',
      })
    }
  }
  return { warnings: checkRulesPlan(plan), files: files.map(([p]) => p) }
}
