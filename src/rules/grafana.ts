import { buildBeyondPanels } from './_grafana-beyond.js'
import type { RulesPlan } from './_plan.js'

/** One query of a panel: the same PromQL in Grafana and on the admin dashboard. */
export interface PanelTarget {
  expr: string
  /** Grafana legendFormat: `{{label}}` takes the series' label value. */
  legend: string
  /** Unit of a second (right-hand) axis, when it differs from the panel's. */
  unit?: string
  /** false: the series has no `model` label, so Grafana's $model filter does not apply. */
  perModel?: boolean
}

/** A horizontal line: an alert threshold, or the engine's reserved fraction of GPU memory. */
export interface PanelLine {
  value: number
  kind: 'alert' | 'reserved'
  label: string
}

/** A time-series panel of the Grafana dashboard and of the admin dashboard alike. */
export interface DashboardPanel {
  /** Stable id (the admin dashboard translates titles by it). */
  key: string
  title: string
  unit: string
  targets: PanelTarget[]
  lines: PanelLine[]
  description?: string
}

const DS = { type: 'prometheus', uid: '${datasource}' }
const WHERE = '{{job}}/{{instance}} {{model}}'
const MODEL_FILTER = '{model=~"$model"}'
const pct = (r: number) => `${Math.round(r * 1000) / 10}%`

function thresholdSteps(lines: readonly PanelLine[]): Record<string, unknown> {
  const steps = [...lines]
    .sort((a, b) => a.value - b.value)
    .map((l) => ({ color: l.kind === 'alert' ? 'red' : 'blue', value: l.value }))
  return {
    thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, ...steps] },
    custom: { thresholdsStyle: { mode: 'line' } },
  }
}

function panel(spec: DashboardPanel, id: number, x: number, y: number): Record<string, unknown> {
  const refId = (i: number) => String.fromCharCode(65 + i)
  // A target with its own unit goes on a right-hand axis (request rate and latency together).
  const overrides = spec.targets.flatMap((t, i) =>
    t.unit && t.unit !== spec.unit
      ? [
          {
            matcher: { id: 'byFrameRefID', options: refId(i) },
            properties: [
              { id: 'unit', value: t.unit },
              { id: 'custom.axisPlacement', value: 'right' },
            ],
          },
        ]
      : [],
  )
  return {
    id,
    type: 'timeseries',
    title: spec.title,
    ...(spec.description ? { description: spec.description } : {}),
    datasource: DS,
    gridPos: { h: 8, w: 12, x, y },
    fieldConfig: {
      defaults: { unit: spec.unit, ...(spec.lines.length ? thresholdSteps(spec.lines) : {}) },
      overrides,
    },
    options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
    targets: spec.targets.map((t, i) => ({
      datasource: DS,
      refId: refId(i),
      expr: t.perModel === false ? t.expr : `${t.expr}${MODEL_FILTER}`,
      legendFormat: t.legend,
    })),
  }
}

/** Requests by context class, from the proxy's request histogram. */
export const CONTEXT_CLASS_QUERY =
  'sum by (context_class) (rate(gen_ai_server_request_duration_seconds_count[1m]))'

/**
 * The panels, on the llm:* recording rules (and the proxy's own request histogram), with the alert thresholds in force: rendered into
 * grafana/inferwatch.json and drawn by the admin dashboard (README: Dashboard).
 */
export function buildDashboardPanels(plan: RulesPlan): DashboardPanel[] {
  const th = plan.thresholds
  const q = (expr: string, legend = WHERE, more: Partial<PanelTarget> = {}): PanelTarget => ({
    expr,
    legend,
    ...more,
  })
  const alertLine = (value: number, label: string): PanelLine => ({ value, kind: 'alert', label })
  const reserved = [
    ...new Set(plan.engines.flatMap((e) => e.gpuMemoryUtilization ?? [])),
  ].map<PanelLine>((u) => ({ value: u, kind: 'reserved', label: `gpu_memory_utilization ${u}` }))
  return [
    {
      key: 'traffic',
      title: 'Request rate and latency p50 / p95 / p99',
      unit: 'reqps',
      targets: [
        q('llm:requests:rate1m', `req/s ${WHERE}`),
        ...[50, 95, 99].map((p) =>
          q(`llm:request_duration_seconds:p${p}_5m`, `p${p} ${WHERE}`, { unit: 's' }),
        ),
      ],
      lines: [],
    },
    {
      // The story's long-context question: the proxy's own histogram (engines do not classify
      // prompts), the same for every engine.
      key: 'context_class',
      title: 'Requests by context class',
      unit: 'reqps',
      targets: [q(CONTEXT_CLASS_QUERY, '{{context_class}}', { perModel: false })],
      lines: [],
    },
    {
      key: 'ttft',
      title: 'Time to first token p50 / p95, time per output token p95',
      unit: 's',
      targets: [
        q('llm:time_to_first_token_seconds:p50_5m', `TTFT p50 ${WHERE}`),
        q('llm:time_to_first_token_seconds:p95_5m', `TTFT p95 ${WHERE}`),
        q('llm:time_per_output_token_seconds:p95_5m', `TPOT p95 ${WHERE}`),
      ],
      lines: [alertLine(th.ttftP95Seconds, `TTFT p95 SLO ${th.ttftP95Seconds}s`)],
    },
    {
      key: 'errors',
      title: 'Error ratio (server-side)',
      unit: 'percentunit',
      targets: [q('llm:request_errors:ratio_rate5m')],
      lines: [alertLine(th.errorRatio, `LLMHighErrorRate ${pct(th.errorRatio)}`)],
    },
    {
      key: 'long_context',
      title: `Long-context share (prompt ≥ ${plan.longFromTokens} tokens)`,
      unit: 'percentunit',
      targets: [q('llm:long_context_requests:ratio_rate5m')],
      lines: [alertLine(th.longContextRatio, `LLMLongContextOverload ${pct(th.longContextRatio)}`)],
    },
    {
      key: 'tokens',
      title: 'Tokens per second, input and output',
      unit: 'short',
      targets: [
        q('llm:input_tokens:rate1m', `input ${WHERE}`),
        q('llm:output_tokens:rate1m', `output ${WHERE}`),
      ],
      lines: [],
    },
    {
      key: 'memory',
      title: 'KV cache usage and GPU memory used',
      unit: 'percentunit',
      description:
        'vLLM pre-allocates gpu_memory_utilization of the card at start; KV cache usage is the pressure signal.',
      targets: [
        q('llm:kv_cache_usage:ratio', `KV cache ${WHERE}`),
        q('llm:gpu_memory_usage:ratio', 'GPU {{gpu}} {{hw_name}} {{instance}}', {
          perModel: false,
        }),
      ],
      lines: [
        alertLine(th.kvCacheRatio, `LLMKVCacheHigh ${pct(th.kvCacheRatio)}`),
        alertLine(th.gpuMemoryRatio, `LLMGPUMemoryHigh ${pct(th.gpuMemoryRatio)}`),
        ...reserved,
      ],
    },
    {
      key: 'backlog',
      title: 'Requests running / waiting',
      unit: 'short',
      targets: [
        q('llm:requests_running:sum', `running ${WHERE}`),
        q('llm:requests_waiting:sum', `waiting ${WHERE}`),
      ],
      lines: [alertLine(th.backlogRequests, `LLMBacklogHigh ${th.backlogRequests}`)],
    },
    {
      key: 'queue',
      title: 'Mean queue time',
      unit: 's',
      targets: [q('llm:queue_time_seconds:mean5m')],
      lines: [alertLine(th.queueTimeSeconds, `LLMQueueTimeHigh ${th.queueTimeSeconds}s`)],
    },
    {
      key: 'preemptions',
      title: 'Preemptions per second',
      unit: 'short',
      targets: [q('llm:preemptions:rate5m')],
      lines: [],
    },
    ...buildBeyondPanels(plan),
  ]
}

/** grafana/inferwatch.json: the golden signals and the pressure signals, all on llm:* rules. */
export function buildGrafanaDashboard(plan: RulesPlan): Record<string, unknown> {
  const specs = buildDashboardPanels(plan)
  return {
    title: 'inferwatch: LLM serving',
    uid: 'inferwatch-llm',
    tags: ['inferwatch', 'llm'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Prometheus',
          type: 'datasource',
          query: 'prometheus',
          current: {},
        },
        {
          name: 'model',
          label: 'Model',
          type: 'query',
          datasource: DS,
          query: { query: 'label_values(llm:requests:rate1m, model)', refId: 'model' },
          definition: 'label_values(llm:requests:rate1m, model)',
          includeAll: true,
          allValue: '.*',
          multi: true,
          current: { text: 'All', value: '$__all' },
          refresh: 2,
        },
      ],
    },
    annotations: {
      list: [
        {
          name: 'Alerts',
          datasource: DS,
          enable: true,
          expr: 'ALERTS{alertstate="firing", alertname=~"LLM.*|Inferwatch.*"}',
          iconColor: 'red',
          titleFormat: '{{alertname}}',
        },
      ],
    },
    panels: specs.map((s, i) => panel(s, i + 1, (i % 2) * 12, Math.floor(i / 2) * 8)),
  }
}

export function renderGrafanaDashboard(plan: RulesPlan): string {
  return `${JSON.stringify(buildGrafanaDashboard(plan), null, 2)}\n`
}
