import type { RulesPlan } from './_plan.js'
import {
  anyOf,
  fromProxyLabels,
  type Grouping,
  grouping,
  identity,
  modelFromModelName,
  preferProxy,
  quantile,
  ratio,
  sumRate,
} from './_promql.js'

export interface RecordingRule {
  record: string
  expr: string
}

const PX = fromProxyLabels
const VM = modelFromModelName
const DURATION = 'gen_ai_server_request_duration_seconds'
/** Server-side failures count against the SLO; 4xx (bad prompt, too long) and client aborts do
 * not. 429 does: the engine refused work it should have taken (README: Metrics, error_type). */
const SERVER_ERROR = 'error_type=~"5..|429|upstream_.*"'
/** SGLang publishes per tensor/pipeline rank with --enable-metrics-for-all-schedulers: the same
 * requests appear on every rank, so take one rank before summing data-parallel ranks. */
const SGL_RANKS = 'tp_rank, pp_rank, moe_ep_rank'
/** Windows of the multiwindow multi-burn-rate alert
 * (https://sre.google/workbook/alerting-on-slos/). */
export const ERROR_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const

function requestRate(g: Grouping, w: string): string {
  return preferProxy(sumRate(g, `${DURATION}_count`, w, PX), [
    { expr: sumRate(g, 'vllm:request_success_total', w, VM), hasModel: true },
    { expr: sumRate(g, 'sglang:e2e_request_latency_seconds_count', w, VM), hasModel: true },
    // TGI counters have no _total suffix (metrics-exporter-prometheus); success + failure.
    {
      expr: `sum by (${g.by}) (rate(tgi_request_success[${w}]) or rate(tgi_request_failure[${w}]))`,
      hasModel: false,
    },
  ])
}

export function errorRatio(g: Grouping, w: string): string {
  const proxyAll = sumRate(g, `${DURATION}_count`, w, PX)
  const proxy = ratio(sumRate(g, `${DURATION}_count{${SERVER_ERROR}}`, w, PX), proxyAll)
  // vLLM: its HTTP metrics carry no model label; keep targets that really are vLLM.
  const vllmSel = 'http_requests_total{handler=~"/v1/.*|/generate|/invocations"'
  const isVllm = `on(${g.base}) group_left() group by (${g.base}) (vllm:num_requests_running)`
  const vllmAll = `sum by (${g.by}) (rate(${vllmSel}}[${w}]))`
  const vllm = `${ratio(`sum by (${g.by}) (rate(${vllmSel}, status="5xx"}[${w}]))`, vllmAll)} * ${isVllm}`
  const tgiAll = `sum by (${g.by}) (rate(tgi_request_success[${w}]) or rate(tgi_request_failure[${w}]))`
  const tgi = ratio(
    `sum by (${g.by}) (rate(tgi_request_failure{err!~"validation|template"}[${w}]))`,
    tgiAll,
  )
  return preferProxy(proxy, [
    { expr: vllm, hasModel: false },
    { expr: tgi, hasModel: false },
  ])
}

function durationQuantile(g: Grouping, q: number): string {
  return preferProxy(quantile(q, g, `${DURATION}_bucket{error_type=""}`, '5m', PX), [
    { expr: quantile(q, g, 'vllm:e2e_request_latency_seconds_bucket', '5m', VM), hasModel: true },
    {
      expr: quantile(q, g, 'sglang:e2e_request_latency_seconds_bucket', '5m', VM),
      hasModel: true,
    },
    { expr: quantile(q, g, 'tgi_request_duration_bucket', '5m', identity), hasModel: false },
  ])
}

function ttftQuantile(g: Grouping, q: number): string {
  // TGI and llama.cpp export no TTFT: only the proxy measures it there
  // (https://huggingface.co/docs/text-generation-inference/reference/metrics,
  // https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md).
  return preferProxy(quantile(q, g, 'gen_ai_server_time_to_first_token_seconds_bucket', '5m', PX), [
    { expr: quantile(q, g, 'vllm:time_to_first_token_seconds_bucket', '5m', VM), hasModel: true },
    { expr: quantile(q, g, 'sglang:time_to_first_token_seconds_bucket', '5m', VM), hasModel: true },
  ])
}

function tpotQuantile(g: Grouping, q: number): string {
  const vllm = `${VM('rate(vllm:request_time_per_output_token_seconds_bucket[5m])')} or ${VM('rate(vllm:time_per_output_token_seconds_bucket[5m])')}`
  return preferProxy(
    quantile(q, g, 'gen_ai_server_time_per_output_token_seconds_bucket', '5m', PX),
    [
      { expr: `histogram_quantile(${q}, sum by (${g.by}, le) (${vllm}))`, hasModel: true },
      {
        expr: quantile(q, g, 'sglang:inter_token_latency_seconds_bucket', '5m', VM),
        hasModel: true,
      },
      {
        expr: quantile(q, g, 'tgi_request_mean_time_per_token_duration_bucket', '5m', identity),
        hasModel: false,
      },
    ],
  )
}

function longContextRatio(g: Grouping, longFromTokens: number): string {
  const all = sumRate(g, `${DURATION}_count`, '5m', PX)
  const proxy = ratio(sumRate(g, `${DURATION}_count{context_class="long"}`, '5m', PX), all)
  // Without the proxy: vLLM's prompt-length histogram (observed when a request finishes; the
  // 1-2-5 buckets include 100000). Python renders le="100000.0"; Prometheus 2.x keeps it as is.
  const count = sumRate(g, 'vllm:request_prompt_tokens_count', '5m', VM)
  const under = sumRate(
    g,
    `vllm:request_prompt_tokens_bucket{le=~"${longFromTokens}(.0)?"}`,
    '5m',
    VM,
  )
  return preferProxy(proxy, [{ expr: `(${count} - ${under}) / ${count}`, hasModel: true }])
}

function tokenRate(g: Grouping, type: 'input' | 'output'): string {
  const proxy = sumRate(g, `gen_ai_client_token_usage_sum{gen_ai_token_type="${type}"}`, '1m', PX)
  const vllm = type === 'input' ? 'vllm:prompt_tokens_total' : 'vllm:generation_tokens_total'
  const sgl = type === 'input' ? 'sglang:prompt_tokens_total' : 'sglang:generation_tokens_total'
  const tgi = type === 'input' ? 'tgi_request_input_length_sum' : 'tgi_request_generated_tokens_sum'
  const llama =
    type === 'input' ? 'llamacpp:prompt_tokens_total' : 'llamacpp:tokens_predicted_total'
  return preferProxy(proxy, [
    { expr: sumRate(g, vllm, '1m', VM), hasModel: true },
    { expr: sumRate(g, sgl, '1m', VM), hasModel: true },
    { expr: sumRate(g, tgi, '1m', identity), hasModel: false },
    { expr: sumRate(g, llama, '1m', identity), hasModel: false },
  ])
}

function gauge(g: Grouping, agg: 'sum' | 'max', sources: Record<string, string>): string {
  const parts: string[] = []
  for (const [engine, expr] of Object.entries(sources)) {
    if (engine === 'sglang') {
      parts.push(`${agg} by (${g.by}) (max without (${SGL_RANKS}) (${VM(expr)}))`)
    } else if (engine === 'vllm') {
      parts.push(`${agg} by (${g.by}) (${VM(expr)})`)
    } else {
      parts.push(`${agg} by (${g.by}) (${expr})`)
    }
  }
  return anyOf(parts)
}

function meanRate(g: Grouping, sum: string, count: string, relabel = VM): string {
  return `sum by (${g.by}) (${relabel(sum)}) / sum by (${g.by}) (${relabel(count)})`
}

const withInstance = (groupBy: readonly string[]): string[] =>
  groupBy.includes('instance') ? [...groupBy] : [...groupBy, 'instance']

/** Across the instances of one job (replicas of a Service, targets of a scrape job). */
function fleetSum(plan: RulesPlan, record: string): string {
  const by = plan.groupBy.filter((l) => l !== 'instance')
  return `sum by (${[...by, 'engine', 'model'].join(', ')}) (${record})`
}

function gpuMemory(groupBy: readonly string[]): string {
  // A GPU belongs to one host: keep `instance` even when the plan aggregates across replicas.
  const keep = withInstance(groupBy)
  const by = `${keep.join(', ')}, gpu, hw_id, hw_name`
  const ours = `sum by (${by}) (hw_gpu_memory_usage_bytes) / sum by (${by}) (hw_gpu_memory_limit_bytes)`
  const dcgm = (e: string) =>
    `sum by (${by}) (label_replace(label_replace(${e}, "hw_id", "$1", "UUID", "(.+)"), "hw_name", "$1", "modelName", "(.+)"))`
  // dcgm-exporter reports MiB; the ratio is unit-free. Its FB_USED excludes reserved memory.
  const fromDcgm = `${dcgm('DCGM_FI_DEV_FB_USED')} / ${dcgm('(DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)')}`
  // Both exporters on one GPU: ours wins (same UUID in hw_id).
  return `(${ours})\nor\n((${fromDcgm}) unless on(hw_id) (${ours}))`
}

/** Every recording rule, in evaluation order (alerts and the SLO group read these). */
export function buildRecordingRules(plan: RulesPlan): RecordingRule[] {
  const g = grouping(plan.groupBy)
  const perInstance = grouping(withInstance(plan.groupBy))
  return [
    { record: 'llm:requests:rate1m', expr: requestRate(g, '1m') },
    { record: 'llm:requests:rate5m', expr: requestRate(g, '5m') },
    { record: 'llm:request_errors:ratio_rate5m', expr: errorRatio(g, '5m') },
    { record: 'llm:request_duration_seconds:p50_5m', expr: durationQuantile(g, 0.5) },
    { record: 'llm:request_duration_seconds:p95_5m', expr: durationQuantile(g, 0.95) },
    { record: 'llm:request_duration_seconds:p99_5m', expr: durationQuantile(g, 0.99) },
    { record: 'llm:time_to_first_token_seconds:p50_5m', expr: ttftQuantile(g, 0.5) },
    { record: 'llm:time_to_first_token_seconds:p95_5m', expr: ttftQuantile(g, 0.95) },
    { record: 'llm:time_per_output_token_seconds:p95_5m', expr: tpotQuantile(g, 0.95) },
    {
      record: 'llm:long_context_requests:ratio_rate5m',
      expr: longContextRatio(g, plan.longFromTokens),
    },
    { record: 'llm:input_tokens:rate1m', expr: tokenRate(g, 'input') },
    { record: 'llm:output_tokens:rate1m', expr: tokenRate(g, 'output') },
    {
      record: 'llm:kv_cache_usage:ratio',
      // vLLM renamed gpu_cache_usage_perc -> kv_cache_usage_perc in 0.9.2 (removed in 0.12); `or`
      // keeps the new name when both exist. A ratio without a published numerator: take the
      // fullest engine core / replica, the one that preempts first.
      expr: gauge(g, 'max', {
        vllm: 'vllm:kv_cache_usage_perc or vllm:gpu_cache_usage_perc',
        sglang: 'sglang:token_usage',
        // TGI: tokens the running batch will grow to over the KV token budget (an estimate).
        tgi: 'tgi_batch_current_max_tokens / tgi_batch_max_total_tokens',
        // llama.cpp: used KV cells over the context, in the builds that export it (later ones
        // dropped it and kv_cache_tokens: https://github.com/ggml-org/llama.cpp/pull/13660).
        llamacpp: 'llamacpp:kv_cache_usage_ratio',
      }),
    },
    // Per engine instance, as LLMBacklogHigh needs it (its threshold is per card); the fleet
    // sums follow under their own names.
    {
      record: 'llm:requests_running:sum',
      expr: gauge(perInstance, 'sum', {
        vllm: 'vllm:num_requests_running',
        sglang: 'sglang:num_running_reqs',
        tgi: 'tgi_batch_current_size',
        llamacpp: 'llamacpp:requests_processing',
      }),
    },
    {
      record: 'llm:requests_waiting:sum',
      expr: gauge(perInstance, 'sum', {
        vllm: 'vllm:num_requests_waiting',
        sglang: 'sglang:num_queue_reqs',
        tgi: 'tgi_queue_size',
        llamacpp: 'llamacpp:requests_deferred',
      }),
    },
    { record: 'llm:requests_running:fleet_sum', expr: fleetSum(plan, 'llm:requests_running:sum') },
    { record: 'llm:requests_waiting:fleet_sum', expr: fleetSum(plan, 'llm:requests_waiting:sum') },
    {
      record: 'llm:queue_time_seconds:mean5m',
      // V0's vllm:time_in_queue_requests became vllm:request_queue_time_seconds (deprecated 0.8).
      expr: anyOf([
        meanRate(
          g,
          'rate(vllm:request_queue_time_seconds_sum[5m]) or rate(vllm:time_in_queue_requests_sum[5m])',
          'rate(vllm:request_queue_time_seconds_count[5m]) or rate(vllm:time_in_queue_requests_count[5m])',
        ),
        meanRate(
          g,
          `max without (${SGL_RANKS}) (rate(sglang:queue_time_seconds_sum[5m]))`,
          `max without (${SGL_RANKS}) (rate(sglang:queue_time_seconds_count[5m]))`,
        ),
        meanRate(
          g,
          'rate(tgi_request_queue_duration_sum[5m])',
          'rate(tgi_request_queue_duration_count[5m])',
          identity,
        ),
      ]),
    },
    {
      record: 'llm:preemptions:rate5m',
      expr: anyOf([
        sumRate(g, 'vllm:num_preemptions_total', '5m', VM),
        `sum by (${g.by}) (max without (${SGL_RANKS}) (${VM('rate(sglang:num_retracted_requests_total[5m])')}))`,
      ]),
    },
    { record: 'llm:gpu_memory_usage:ratio', expr: gpuMemory(plan.groupBy) },
  ]
}

/** Error ratios over the SLO windows (5m is in the main group already). */
export function buildSloRules(plan: RulesPlan): RecordingRule[] {
  const g = grouping(plan.groupBy)
  return ERROR_WINDOWS.filter((w) => w !== '5m').map((w) => ({
    record: `llm:request_errors:ratio_rate${w}`,
    expr: errorRatio(g, w),
  }))
}
