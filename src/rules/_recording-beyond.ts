// Recording rules beyond the engines' common names (README: Prometheus rules and alerts, "Who,
// where, how long, how much"): the client behind the long-context share, where a request's time
// goes, when the KV cache will be full, and what a token costs in energy and money.
import type { RulesPlan } from './_plan.js'
import {
  anyOf,
  fromProxyLabels,
  type Grouping,
  grouping,
  identity,
  modelFromModelName,
  preferProxy,
  sumRate,
} from './_promql.js'
import type { RecordingRule } from './_recording.js'

/** A recording rule that may add constant labels (the cost rule's currency). */
export interface BeyondRecordingRule extends RecordingRule {
  labels?: Record<string, string>
}

const VM = modelFromModelName
const PX = fromProxyLabels
const SGL_RANKS = 'tp_rank, pp_rank, moe_ep_rank'
const num = (n: number) => String(Number(n.toPrecision(12)))

/** Mean over 5 m of a histogram: sum of rates over sum of rates, per rule labels. */
function mean5m(
  g: Grouping,
  name: string,
  relabel = VM,
  inner = (e: string) => e,
  selector = '',
): string {
  const r = (part: string) =>
    `sum by (${g.by}) (${relabel(inner(`rate(${name}_${part}${selector}[5m])`))})`
  return `${r('sum')} / ${r('count')}`
}

const withPhase = (phase: string, expr: string) =>
  `label_replace(${expr}, "phase", "${phase}", "", "")`

function phases(g: Grouping): string {
  const sglRank = (e: string) => `max without (${SGL_RANKS}) (${e})`
  // SGLang exports no per-phase histograms: prefill is its TTFT less its queue time, decode its
  // end-to-end latency less its TTFT (https://docs.sglang.io/references/production_metrics.html).
  const sglTtft = mean5m(g, 'sglang:time_to_first_token_seconds')
  const sglE2e = mean5m(g, 'sglang:e2e_request_latency_seconds')
  const sglQueue = mean5m(g, 'sglang:queue_time_seconds', VM, sglRank)
  const prefill = anyOf([
    mean5m(g, 'vllm:request_prefill_time_seconds'),
    `(${sglTtft}) - (${sglQueue})`,
  ])
  const decode = anyOf([
    mean5m(g, 'vllm:request_decode_time_seconds'),
    `(${sglE2e}) - (${sglTtft})`,
  ])
  // outside_engine: what the proxy measured (arrival to last byte, successes) less what the
  // engine measured for the same model, averaged over the engine's targets: network, proxy and
  // the client's reading. TGI's histograms carry no model label: matched by engine only.
  const proxyE2e = mean5m(
    g,
    'gen_ai_server_request_duration_seconds',
    PX,
    identity,
    '{error_type=""}',
  )
  const engineMean = (by: string, name: string, relabel: (e: string) => string) =>
    `sum by (${by}) (${relabel(`rate(${name}_sum[5m])`)}) / sum by (${by}) (${relabel(`rate(${name}_count[5m])`)})`
  const byModel = anyOf([
    engineMean('engine, model', 'vllm:e2e_request_latency_seconds', VM),
    engineMean('engine, model', 'sglang:e2e_request_latency_seconds', VM),
  ])
  const outside = anyOf([
    `(${proxyE2e}) - on(engine, model) group_left() (${byModel})`,
    `(${proxyE2e}) - on(engine) group_left() (${engineMean('engine', 'tgi_request_duration', identity)})`,
  ])
  return anyOf([
    // The same sources as llm:queue_time_seconds:mean5m (vLLM V1/V0, SGLang, TGI).
    withPhase('queue', 'llm:queue_time_seconds:mean5m'),
    withPhase('prefill', `(${prefill})`),
    withPhase('decode', `(${decode})`),
    withPhase('outside_engine', `(${outside})`),
  ])
}

function longContextShare(groupBy: readonly string[]): string {
  const by = groupBy.join(', ')
  const long = (labels: string) =>
    `sum by (${labels}) (rate(inferwatch_client_requests_total{context_class="long"}[5m]))`
  return `${long(`${by}, client`)}\n  / ignoring(client) group_left()\n(${long(by)} > 0)`
}

function kvExhaustion(): string {
  const kv = 'llm:kv_cache_usage:ratio'
  // Seconds to 100 % at the least-squares slope of the last 30 minutes (deriv), only while it
  // rises: a sawtooth of batches averages out, a cache that keeps growing does not.
  return `(1 - ${kv}) / (deriv(${kv}[30m]) > 0)`
}

/** Output (or all) tokens per second over 5 m per scrape target, one source per request; each
 * type keeps a `token_type` label so that input and output never hide each other in `or`. */
function tokensRate5m(types: readonly ('input' | 'output')[]): string {
  const g = grouping(['job', 'instance'])
  const parts = types.map((type) => {
    const vllm = type === 'input' ? 'vllm:prompt_tokens_total' : 'vllm:generation_tokens_total'
    const sgl = type === 'input' ? 'sglang:prompt_tokens_total' : 'sglang:generation_tokens_total'
    const tgi =
      type === 'input' ? 'tgi_request_input_length_sum' : 'tgi_request_generated_tokens_sum'
    const llama =
      type === 'input' ? 'llamacpp:prompt_tokens_total' : 'llamacpp:tokens_predicted_total'
    const all = preferProxy(
      sumRate(g, `gen_ai_client_token_usage_sum{gen_ai_token_type="${type}"}`, '5m', PX),
      [
        { expr: sumRate(g, vllm, '5m', VM), hasModel: true },
        { expr: sumRate(g, sgl, '5m', VM), hasModel: true },
        { expr: sumRate(g, tgi, '5m', identity), hasModel: false },
        { expr: sumRate(g, llama, '5m', identity), hasModel: false },
      ],
    )
    return types.length === 1 ? all : `label_replace(${all}, "token_type", "${type}", "", "")`
  })
  return anyOf(parts)
}

const host = (e: string) => `label_replace(${e}, "host", "$1", "instance", "(.+):[0-9]+")`

/** `per_gpu_source` (by job, instance) divided by the token rate of the same host. */
function perHostToken(source: string, tokens: string): string {
  return `sum without (host) (\n  ${host(`(${source})`)}\n  / on(host) group_left()\n  (sum by (host) (${host(`(${tokens})`)}) > 0)\n)`
}

/** GPU power in watts (joules per second) per scrape target: ours, else dcgm-exporter's. */
function powerWatts(): string {
  const dcgm = `label_replace(avg_over_time(DCGM_FI_DEV_POWER_USAGE[5m]), "hw_id", "$1", "UUID", "(.+)") unless on(hw_id) hw_gpu_power_draw_watts`
  return anyOf([
    'sum by (job, instance) (avg_over_time(hw_gpu_power_draw_watts[5m]))',
    `sum by (job, instance) (${dcgm})`,
  ])
}

/** GPUs per scrape target: ours, else dcgm-exporter's. */
function gpuCount(): string {
  const dcgm = `label_replace(DCGM_FI_DEV_FB_FREE, "hw_id", "$1", "UUID", "(.+)") unless on(hw_id) hw_gpu_memory_limit_bytes`
  return anyOf([
    'count by (job, instance) (hw_gpu_memory_limit_bytes)',
    `count by (job, instance) (${dcgm})`,
  ])
}

/** Appended to the recording group, after llm:kv_cache_usage:ratio and the queue time they read. */
export function buildBeyondRecordingRules(plan: RulesPlan): BeyondRecordingRule[] {
  const g = grouping(plan.groupBy)
  const rules: BeyondRecordingRule[] = [
    {
      record: 'llm:client_long_context_requests:share_rate5m',
      expr: longContextShare(plan.groupBy),
    },
    { record: 'llm:request_phase_seconds:mean5m', expr: phases(g) },
    { record: 'llm:kv_cache_exhaustion_seconds', expr: kvExhaustion() },
    {
      record: 'llm:energy_joules_per_output_token:rate5m',
      expr: perHostToken(powerWatts(), tokensRate5m(['output'])),
    },
  ]
  const price = plan.cost.gpuHourly
  if (price !== undefined)
    rules.push({
      record: 'llm:cost_per_million_tokens:rate5m',
      // Price per GPU-second x 1e6, over input + output tokens per second.
      expr: perHostToken(
        `(${gpuCount()})\n* ${num((price / 3600) * 1e6)}`,
        tokensRate5m(['input', 'output']),
      ),
      labels: { currency: plan.cost.currency },
    })
  return rules
}
