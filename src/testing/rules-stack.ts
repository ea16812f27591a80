import { type Config, parseConfig } from '../config/index.js'
import {
  renderAlertmanagerConfig,
  renderPrometheusConfig,
  renderRecordingRules,
} from '../rules/index.js'
import {
  type AlertmanagerHandle,
  type PrometheusHandle,
  startAlertmanager,
  startPrometheus,
} from './prom-stack.js'

export interface RulesStack {
  am: AlertmanagerHandle
  prom: PrometheusHandle
  /** `base` with `alertmanager.url` set to the running Alertmanager: what Prometheus runs with. */
  config: Readonly<Config>
  /** Closes Prometheus, then Alertmanager. */
  close(): Promise<void>
}

/**
 * Real Alertmanager and Prometheus running what `inferwatch rules` generates from `base` (a raw
 * config, without `alertmanager`): alertmanager.yml first, then prometheus.yml and
 * rules/inferwatch.rules.yml pointed at that Alertmanager. Alertmanager posts to `webhookUrl` when
 * given, else to the relay on the admin address.
 */
export async function startRulesStack(
  base: Record<string, unknown>,
  webhookUrl?: string,
): Promise<RulesStack> {
  const amConfig = parseConfig(webhookUrl ? { ...base, alertmanager: { webhookUrl } } : base)
  const am = await startAlertmanager({ configYaml: renderAlertmanagerConfig(amConfig) })
  try {
    const config = parseConfig({ ...base, alertmanager: { url: am.url } })
    const prom = await startPrometheus({
      configYaml: renderPrometheusConfig(config),
      ruleFiles: { 'rules/inferwatch.rules.yml': renderRecordingRules(config) },
    })
    return {
      am,
      prom,
      config,
      async close() {
        await prom.close()
        await am.close()
      },
    }
  } catch (err) {
    await am.close()
    throw err
  }
}
