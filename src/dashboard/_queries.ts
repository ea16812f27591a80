import type { Config } from '../config/index.js'
import {
  ALERT_NAMES,
  buildDashboardPanels,
  CONTEXT_CLASS_QUERY,
  type DashboardPanel,
  planRules,
} from '../rules/index.js'

// What the page may ask Prometheus: the panels' and tiles' PromQL, built here from the same
// Config the rules are rendered from. The query API accepts exactly these strings, nothing else.

export { CONTEXT_CLASS_QUERY }

export type TileKey =
  | 'requests'
  | 'latency'
  | 'ttft'
  | 'errors'
  | 'long_context'
  | 'kv_cache'
  | 'gpu_memory'
  | 'backlog'

export interface TileSpec {
  key: TileKey
  unit: string
  /** Instant queries; the tile shows the sum of each over its series (`sum`) or the largest (`max`). */
  exprs: string[]
  agg: 'sum' | 'max'
  /** The alert that watches this value, its threshold (on the tile's total) and severity. */
  alert?: { name: string; threshold: number; severity: 'critical' | 'warning' }
}

export interface DashboardSpec {
  panels: DashboardPanel[]
  tiles: TileSpec[]
  /** Alerts the page lists: inferwatch's, and any other LLM* / Inferwatch* alert. */
  alertNames: readonly string[]
  /** Seconds between refreshes: the scrape interval, within 2..15. */
  refreshSeconds: number
  longFromTokens: number
}

export function buildDashboardSpec(config: Readonly<Config>): DashboardSpec {
  const plan = planRules(config)
  const th = plan.thresholds
  const panels = buildDashboardPanels(plan)
  const tiles: TileSpec[] = [
    { key: 'requests', unit: 'reqps', exprs: ['llm:requests:rate1m'], agg: 'sum' },
    {
      key: 'latency',
      unit: 's',
      exprs: ['llm:request_duration_seconds:p95_5m'],
      agg: 'max',
    },
    {
      key: 'ttft',
      unit: 's',
      exprs: ['llm:time_to_first_token_seconds:p95_5m'],
      agg: 'max',
      alert: { name: 'LLMSlowTimeToFirstToken', threshold: th.ttftP95Seconds, severity: 'warning' },
    },
    {
      key: 'errors',
      unit: 'percentunit',
      exprs: ['llm:request_errors:ratio_rate5m'],
      agg: 'max',
      alert: { name: 'LLMHighErrorRate', threshold: th.errorRatio, severity: 'critical' },
    },
    {
      key: 'long_context',
      unit: 'percentunit',
      exprs: ['llm:long_context_requests:ratio_rate5m'],
      agg: 'max',
      alert: {
        name: 'LLMLongContextOverload',
        threshold: th.longContextRatio,
        severity: 'critical',
      },
    },
    {
      key: 'kv_cache',
      unit: 'percentunit',
      exprs: ['llm:kv_cache_usage:ratio'],
      agg: 'max',
      alert: { name: 'LLMKVCacheHigh', threshold: th.kvCacheRatio, severity: 'warning' },
    },
    {
      key: 'gpu_memory',
      unit: 'percentunit',
      exprs: ['llm:gpu_memory_usage:ratio'],
      agg: 'max',
      alert: { name: 'LLMGPUMemoryHigh', threshold: th.gpuMemoryRatio, severity: 'critical' },
    },
    {
      key: 'backlog',
      unit: 'short',
      exprs: ['llm:requests_running:sum', 'llm:requests_waiting:sum'],
      agg: 'sum',
      alert: { name: 'LLMBacklogHigh', threshold: th.backlogRequests, severity: 'warning' },
    },
  ]
  return {
    panels,
    tiles,
    alertNames: ALERT_NAMES,
    refreshSeconds: Math.min(15, Math.max(2, plan.scrapeIntervalSeconds)),
    longFromTokens: plan.longFromTokens,
  }
}

/** Every PromQL string the query API lets through. */
export function allowedQueries(spec: DashboardSpec): Set<string> {
  return new Set([
    ...spec.panels.flatMap((p) => p.targets.map((t) => t.expr)),
    ...spec.tiles.flatMap((t) => t.exprs),
  ])
}

/** The alerts the page shows: inferwatch's own names, or LLM* / Inferwatch* ones a user added. */
export function isDashboardAlert(name: string): boolean {
  return (ALERT_NAMES as readonly string[]).includes(name) || /^(LLM|Inferwatch)/.test(name)
}
