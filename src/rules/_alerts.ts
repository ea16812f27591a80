import { alertText } from './_messages.js'
import { type AlertName, formatDuration, type RulesPlan } from './_plan.js'

export interface AlertRule {
  alert: AlertName
  expr: string
  for?: string
  labels: { severity: 'critical' | 'warning' }
  annotations: { summary: string; description: string; runbook_url: string }
}

const pct = (r: number) => `${Number((r * 100).toPrecision(6))}%`
const num = (n: number) => String(Number(n.toPrecision(12)))

/** README runbook anchors: GitHub lower-cases `#### LLMGPUMemoryHigh` to #llmgpumemoryhigh. */
export function runbookUrl(plan: RulesPlan, alert: AlertName): string {
  return `${plan.runbookUrl}#${alert.toLowerCase()}`
}

/** The error budget B = 1 - objective, without float noise (0.999 -> 0.001). */
export function errorBudget(objective: number): number {
  return Number((1 - objective).toPrecision(10))
}

/** `="a"` or `=~"a|b"`: job names are plain words, no regex escaping needed. */
function jobMatcher(jobs: readonly string[]): string {
  return jobs.length === 1 ? `="${jobs[0]}"` : `=~"${jobs.join('|')}"`
}

export function buildAlertRules(plan: RulesPlan): AlertRule[] {
  const t = plan.thresholds
  const rule = (
    alert: AlertName,
    expr: string,
    severity: 'critical' | 'warning',
    texts: Record<string, string>,
    textName: Parameters<typeof alertText>[0] = alert,
  ): AlertRule => {
    const forSeconds = t.forSeconds[alert]
    const text = alertText(textName, plan.language, { for: formatDuration(forSeconds), ...texts })
    return {
      alert,
      expr,
      ...(forSeconds > 0 ? { for: formatDuration(forSeconds) } : {}),
      labels: { severity },
      annotations: { ...text, runbook_url: runbookUrl(plan, alert) },
    }
  }
  const b = errorBudget(t.objective)
  const burn = (w: string, factor: number) =>
    `llm:request_errors:ratio_rate${w} > ${num(factor * b)}`
  const objective = pct(t.objective)
  return [
    rule('LLMGPUMemoryHigh', `llm:gpu_memory_usage:ratio > ${num(t.gpuMemoryRatio)}`, 'critical', {
      threshold: pct(t.gpuMemoryRatio),
    }),
    rule('LLMKVCacheHigh', `llm:kv_cache_usage:ratio > ${num(t.kvCacheRatio)}`, 'warning', {
      threshold: pct(t.kvCacheRatio),
    }),
    rule(
      'LLMQueueTimeHigh',
      `llm:queue_time_seconds:mean5m > ${num(t.queueTimeSeconds)}`,
      'warning',
      { threshold: `${num(t.queueTimeSeconds)}s` },
    ),
    rule(
      'LLMBacklogHigh',
      `llm:requests_running:sum + llm:requests_waiting:sum >= ${num(t.backlogRequests)}`,
      'warning',
      { threshold: num(t.backlogRequests) },
    ),
    rule(
      'LLMLongContextOverload',
      `llm:long_context_requests:ratio_rate5m > ${num(t.longContextRatio)}`,
      'critical',
      { threshold: pct(t.longContextRatio), tokens: String(plan.longFromTokens) },
    ),
    rule('LLMHighErrorRate', `llm:request_errors:ratio_rate5m > ${num(t.errorRatio)}`, 'critical', {
      threshold: pct(t.errorRatio),
    }),
    rule(
      'LLMSlowTimeToFirstToken',
      `llm:time_to_first_token_seconds:p95_5m > ${num(t.ttftP95Seconds)}`,
      'warning',
      { threshold: `${num(t.ttftP95Seconds)}s` },
    ),
    // Engine targets carry an `engine` label (prometheus.yml, k8s PodMonitor); the proxy's
    // inferwatch_upstream_up is 0 when the engine's health endpoint fails.
    rule('LLMEngineDown', 'up{engine!=""} == 0 or inferwatch_upstream_up == 0', 'critical', {}),
    // Multiwindow, multi-burn-rate (SRE Workbook "Alerting on SLOs",
    // https://sre.google/workbook/alerting-on-slos/): no `for`, the short window already makes it
    // reset fast.
    rule(
      'LLMErrorBudgetBurn',
      `(${burn('1h', 14.4)} and ${burn('5m', 14.4)})\nor\n(${burn('6h', 6)} and ${burn('30m', 6)})`,
      'critical',
      { objective, burn: '6' },
    ),
    rule(
      'LLMErrorBudgetBurn',
      `(${burn('1d', 3)} and ${burn('2h', 3)})\nor\n(${burn('3d', 1)} and ${burn('6h', 1)})`,
      'warning',
      { objective, burn: '1' },
      'LLMErrorBudgetBurnSlow',
    ),
    rule('LLMPreemptions', 'llm:preemptions:rate5m > 0', 'warning', {}),
    // Only the jobs inferwatch generates: a shared Prometheus scrapes other teams' targets too
    // (kube-prometheus-stack's kube-etcd is down on many managed clusters).
    rule(
      'InferwatchTargetMissing',
      `up{job${jobMatcher(plan.targetJobs)}} == 0 or absent(up{job="inferwatch"}) or inferwatch_gpu_collector_up == 0`,
      'warning',
      {},
    ),
  ]
}
