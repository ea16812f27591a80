// Panels for the rules of _recording-beyond.ts, drawn after the engine panels in
// grafana/inferwatch.json and on the admin dashboard: who sends the long requests, where the
// time goes, when the KV cache is full, what a token costs.
import type { RulesPlan } from './_plan.js'
import type { DashboardPanel } from './grafana.js'

const WHERE = '{{job}}/{{instance}} {{model}}'

export function buildBeyondPanels(plan: RulesPlan): DashboardPanel[] {
  const within = plan.thresholds.kvExhaustionWithinSeconds
  const { gpuHourly, currency } = plan.cost
  return [
    {
      key: 'clients',
      title: 'Long-context share by client',
      unit: 'percentunit',
      description:
        'client: the attribution header, the body user field, or key-<hash> of the bearer token (README: Metrics).',
      targets: [
        {
          expr: 'llm:client_long_context_requests:share_rate5m',
          legend: '{{client}} {{job}}/{{instance}}',
          perModel: false,
        },
      ],
      lines: [],
    },
    {
      key: 'phases',
      title: 'Where the time goes: queue, prefill, decode, outside the engine (mean)',
      unit: 's',
      description:
        'outside_engine = the proxy-measured request time minus the engine-measured one: network, proxy and client.',
      targets: [{ expr: 'llm:request_phase_seconds:mean5m', legend: `{{phase}} ${WHERE}` }],
      lines: [],
    },
    {
      key: 'kv_exhaustion',
      title: 'Time until the KV cache is full (30-minute trend)',
      unit: 's',
      description: 'Absent while KV cache usage is flat or falling.',
      targets: [{ expr: 'llm:kv_cache_exhaustion_seconds', legend: WHERE }],
      lines: [{ value: within, kind: 'alert', label: `LLMKVCacheExhaustionSoon ${within}s` }],
    },
    {
      key: 'token_cost',
      title:
        gpuHourly === undefined
          ? 'Energy per output token (J)'
          : `Energy per output token (J) and cost per 1M tokens (${currency})`,
      unit: 'short',
      ...(gpuHourly === undefined
        ? { description: 'Set cost.gpuHourly in the config to add the cost per 1M tokens.' }
        : {}),
      targets: [
        {
          expr: 'llm:energy_joules_per_output_token:rate5m',
          legend: 'J/token {{job}}/{{instance}}',
          perModel: false,
        },
        ...(gpuHourly === undefined
          ? []
          : [
              {
                expr: 'llm:cost_per_million_tokens:rate5m',
                legend: `${currency}/1M tokens {{job}}/{{instance}}`,
                unit: 'none',
                perModel: false,
              },
            ]),
      ],
      lines: [],
    },
  ]
}
