import type { RulesPlan } from './_plan.js'

interface Target {
  expr: string
  legendFormat: string
}

interface PanelSpec {
  title: string
  unit: string
  targets: Target[]
  /** Threshold line (the alert's), in the panel's unit. */
  threshold?: number
  description?: string
}

const DS = { type: 'prometheus', uid: '${datasource}' }
const WHERE = '{{job}}/{{instance}} {{model}}'

function panel(spec: PanelSpec, id: number, x: number, y: number): Record<string, unknown> {
  return {
    id,
    type: 'timeseries',
    title: spec.title,
    ...(spec.description ? { description: spec.description } : {}),
    datasource: DS,
    gridPos: { h: 8, w: 12, x, y },
    fieldConfig: {
      defaults: {
        unit: spec.unit,
        ...(spec.threshold !== undefined
          ? {
              thresholds: {
                mode: 'absolute',
                steps: [
                  { color: 'green', value: null },
                  { color: 'red', value: spec.threshold },
                ],
              },
              custom: { thresholdsStyle: { mode: 'line' } },
            }
          : {}),
      },
      overrides: [],
    },
    options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
    targets: spec.targets.map((t, i) => ({
      datasource: DS,
      refId: String.fromCharCode(65 + i),
      expr: t.expr,
      legendFormat: t.legendFormat,
    })),
  }
}

/** grafana/inferwatch.json: the golden signals and the pressure signals, all on llm:* rules. */
export function buildGrafanaDashboard(plan: RulesPlan): Record<string, unknown> {
  const th = plan.thresholds
  const filter = '{model=~"$model"}'
  const q = (record: string, legend = WHERE): Target => ({
    expr: `${record}${filter}`,
    legendFormat: legend,
  })
  const specs: PanelSpec[] = [
    { title: 'Requests per second', unit: 'reqps', targets: [q('llm:requests:rate1m')] },
    {
      title: 'Request latency p50 / p95 / p99',
      unit: 's',
      targets: [50, 95, 99].map((p) =>
        q(`llm:request_duration_seconds:p${p}_5m`, `p${p} ${WHERE}`),
      ),
    },
    {
      title: 'Error ratio (server-side)',
      unit: 'percentunit',
      threshold: th.errorRatio,
      targets: [q('llm:request_errors:ratio_rate5m')],
    },
    {
      title: 'Time to first token p50 / p95',
      unit: 's',
      threshold: th.ttftP95Seconds,
      targets: [
        q('llm:time_to_first_token_seconds:p50_5m', `p50 ${WHERE}`),
        q('llm:time_to_first_token_seconds:p95_5m', `p95 ${WHERE}`),
      ],
    },
    {
      title: 'Time per output token p95',
      unit: 's',
      targets: [q('llm:time_per_output_token_seconds:p95_5m')],
    },
    {
      title: `Long-context share (prompt ≥ ${plan.longFromTokens} tokens)`,
      unit: 'percentunit',
      threshold: th.longContextRatio,
      targets: [q('llm:long_context_requests:ratio_rate5m')],
    },
    {
      title: 'Tokens per second',
      unit: 'short',
      targets: [
        q('llm:input_tokens:rate1m', `input ${WHERE}`),
        q('llm:output_tokens:rate1m', `output ${WHERE}`),
      ],
    },
    {
      title: 'KV cache usage',
      unit: 'percentunit',
      threshold: th.kvCacheRatio,
      targets: [q('llm:kv_cache_usage:ratio')],
    },
    {
      title: 'Requests running / waiting',
      unit: 'short',
      threshold: th.backlogRequests,
      targets: [
        q('llm:requests_running:sum', `running ${WHERE}`),
        q('llm:requests_waiting:sum', `waiting ${WHERE}`),
      ],
    },
    {
      title: 'Mean queue time',
      unit: 's',
      threshold: th.queueTimeSeconds,
      targets: [q('llm:queue_time_seconds:mean5m')],
    },
    {
      title: 'GPU memory used',
      unit: 'percentunit',
      threshold: th.gpuMemoryRatio,
      description:
        'vLLM pre-allocates gpu_memory_utilization of the card at start; KV cache usage is the pressure signal.',
      targets: [
        {
          expr: 'llm:gpu_memory_usage:ratio',
          legendFormat: '{{instance}} GPU {{gpu}} {{hw_name}}',
        },
      ],
    },
    {
      title: 'Preemptions per second',
      unit: 'short',
      targets: [q('llm:preemptions:rate5m')],
    },
  ]
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
