// `inferwatch rules`: Prometheus/Alertmanager config, llm:* recording rules, alerts, promtool
// tests, Grafana dashboard and Kubernetes manifests, all rendered from the Config.
import type { Config } from '../config/index.js'
import { type PlanOverrides, planRules, type RulesPlan } from './_plan.js'
import { renderAlertmanagerConfig as amYaml } from './alertmanager-config.js'
import { renderGrafanaDashboard as grafanaJson } from './grafana.js'
import {
  renderK8sMonitors as monitors,
  renderK8sPrometheusRule as promRule,
  renderK8sProxy as proxyYaml,
  renderK8sSecret as secretYaml,
} from './k8s.js'
import { renderPrometheusConfig as promYaml } from './prometheus-config.js'
import { renderRuleFile as rulesYaml } from './rule-files.js'
import { renderRuleTests as testsYaml } from './rule-tests.js'

/** A loaded Config (rendered with `overrides`) or an already resolved plan. */
export type RulesSource = Readonly<Config> | RulesPlan

function toPlan(source: RulesSource, overrides?: PlanOverrides): RulesPlan {
  return 'thresholds' in source ? source : planRules(source, overrides)
}

export const renderPrometheusConfig = (s: RulesSource, o?: PlanOverrides): string =>
  promYaml(toPlan(s, o))
/** rules/inferwatch.rules.yml: recording rules and alerts. */
export const renderRecordingRules = (s: RulesSource, o?: PlanOverrides): string =>
  rulesYaml(toPlan(s, o))
/** Same file as renderRecordingRules: one rule file holds the llm:* records and the alerts. */
export const renderAlertRules = renderRecordingRules
export const renderRuleTests = (s: RulesSource, o?: PlanOverrides): string =>
  testsYaml(toPlan(s, o))
export const renderAlertmanagerConfig = (s: RulesSource, o?: PlanOverrides): string =>
  amYaml(toPlan(s, o))
export const renderGrafanaDashboard = (s: RulesSource, o?: PlanOverrides): string =>
  grafanaJson(toPlan(s, o))
export const renderK8sPrometheusRule = (s: RulesSource, o?: PlanOverrides): string =>
  promRule(toPlan(s, o))
export const renderK8sMonitors = (s: RulesSource, o?: PlanOverrides): string =>
  monitors(toPlan(s, o))
export const renderK8sProxy = (s: RulesSource, o?: PlanOverrides): string => proxyYaml(toPlan(s, o))
/** The admin token's Secret; undefined without adminToken. */
export const renderK8sSecret = (s: RulesSource, o?: PlanOverrides): string | undefined =>
  secretYaml(toPlan(s, o))
export {
  ALERT_NAMES,
  type AlertName,
  type EngineType,
  formatDuration,
  type PlanOverrides,
  planRules,
  type RulesPlan,
} from './_plan.js'
export { buildAlertmanagerConfig } from './alertmanager-config.js'
export {
  buildDashboardPanels,
  buildGrafanaDashboard,
  CONTEXT_CLASS_QUERY,
  type DashboardPanel,
  type PanelLine,
  type PanelTarget,
} from './grafana.js'
export { ENGINE_PORTS, K8S_PORTS, K8S_RUN_AS, planK8sProxies } from './k8s.js'
export { buildPrometheusConfig } from './prometheus-config.js'
export {
  buildRuleGroups,
  GROUP_ORDER,
  RULE_TESTS_FILE,
  RULES_FILE,
  type RuleGroup,
  renderRuleFile,
} from './rule-files.js'
export { buildRuleTests } from './rule-tests.js'
export {
  checkRulesPlan,
  type RenderedFile,
  renderRulesFiles,
  type WriteRulesResult,
  writeRules,
} from './write-rules.js'

/** The recording rules every engine maps onto (README: Prometheus rules and alerts). */
export const LLM_RECORDING_RULES = [
  'llm:requests:rate1m',
  'llm:request_errors:ratio_rate5m',
  'llm:request_duration_seconds:p95_5m',
  'llm:time_to_first_token_seconds:p95_5m',
  'llm:long_context_requests:ratio_rate5m',
  'llm:kv_cache_usage:ratio',
  'llm:requests_running:sum',
  'llm:requests_waiting:sum',
  'llm:queue_time_seconds:mean5m',
  'llm:gpu_memory_usage:ratio',
] as const
