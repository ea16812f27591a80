import type { AlertRule } from './_alerts.js'
import { runbookUrl } from './_alerts.js'
import { alertText } from './_messages.js'
import { formatDuration, type RulesPlan } from './_plan.js'

/** Alerts on the rules of _recording-beyond.ts, appended to the alert group. */
export function buildBeyondAlertRules(plan: RulesPlan): AlertRule[] {
  const t = plan.thresholds
  const forSeconds = t.forSeconds.LLMKVCacheExhaustionSoon
  const within = t.kvExhaustionWithinSeconds
  return [
    {
      alert: 'LLMKVCacheExhaustionSoon',
      expr: `llm:kv_cache_exhaustion_seconds < ${within}`,
      ...(forSeconds > 0 ? { for: formatDuration(forSeconds) } : {}),
      labels: { severity: 'warning' },
      annotations: {
        ...alertText('LLMKVCacheExhaustionSoon', plan.language, {
          for: formatDuration(forSeconds),
          within: formatDuration(within),
        }),
        runbook_url: runbookUrl(plan, 'LLMKVCacheExhaustionSoon'),
      },
    },
  ]
}
