// PromQL building blocks for the recording rules. Every engine's own names are mapped onto one
// label set: the plan's groupBy labels (job, instance by default) + `engine` + `model`.
// Sources: the engines' metric docs (names, renames):
// https://docs.vllm.ai/en/latest/usage/metrics.html,
// https://huggingface.co/docs/text-generation-inference/reference/metrics,
// https://docs.sglang.io/references/production_metrics.html,
// https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md), dcgm-exporter
// (https://github.com/NVIDIA/dcgm-exporter/blob/main/etc/default-counters.csv) and
// https://prometheus.io/docs/practices/rules/ (aggregate numerators and denominators, never
// average ratios).

/** vLLM and SGLang label the served model `model_name`; our rules call it `model`. */
export function modelFromModelName(expr: string): string {
  return `label_replace(${expr}, "model", "$1", "model_name", "(.+)")`
}

/** The proxy's OTel GenAI labels -> `model` and `engine` (README: Metrics). */
export function fromProxyLabels(expr: string): string {
  return `label_replace(label_replace(${expr}, "model", "$1", "gen_ai_request_model", "(.+)"), "engine", "$1", "gen_ai_provider_name", "(.+)")`
}

export interface Grouping {
  /** `job, instance, engine, model` */
  by: string
  /** `job, instance` (the plan's groupBy) */
  base: string
}

export function grouping(groupBy: readonly string[]): Grouping {
  const base = groupBy.join(', ')
  return { base, by: `${base}, engine, model` }
}

/** Ratio of two counters' rates that is 0, not absent, when the numerator has no series. */
export function ratio(numerator: string, denominator: string): string {
  return `(${numerator} or ${denominator} * 0) / ${denominator}`
}

export interface Fallback {
  expr: string
  /** Engines whose series carry `model` (vLLM, SGLang) defer per model; the rest only when the
   * proxy exports nothing at all (TGI and llama.cpp have no model label). */
  hasModel: boolean
}

/** Models the proxy meters (it has seen at least one request for them). */
const PROXY_MODELS = `group by (model) (label_replace(gen_ai_server_request_duration_seconds_count, "model", "$1", "gen_ai_request_model", "(.+)"))`
const PROXY_ANY = 'group(gen_ai_server_request_duration_seconds_count)'

/**
 * Request-level signals: the proxy (it sees every request, with context_class) wins; an engine's
 * own metrics fill in only for models the proxy does not meter, so a deployment with both never
 * counts a request twice (README "Prometheus rules": "one source per request").
 */
export function preferProxy(proxy: string | undefined, fallbacks: readonly Fallback[]): string {
  const parts: string[] = []
  if (proxy) parts.push(proxy)
  for (const f of fallbacks) {
    if (!proxy) parts.push(f.expr)
    else
      parts.push(
        `(${f.expr}) unless on(${f.hasModel ? 'model' : ''}) ${f.hasModel ? PROXY_MODELS : PROXY_ANY}`,
      )
  }
  return anyOf(parts)
}

/** Union of sources that never describe the same series (different engines, different targets). */
export function anyOf(parts: readonly string[]): string {
  return parts.map((p) => (parts.length > 1 ? `(${p})` : p)).join('\nor\n')
}

/** A counter-rate sum, by the rule labels, with the model relabelled per source. */
export function sumRate(
  g: Grouping,
  selector: string,
  window: string,
  relabel: (e: string) => string,
): string {
  return `sum by (${g.by}) (${relabel(`rate(${selector}[${window}])`)})`
}

export function quantile(
  q: number,
  g: Grouping,
  bucketSelector: string,
  window: string,
  relabel: (e: string) => string,
): string {
  return `histogram_quantile(${q}, sum by (${g.by}, le) (${relabel(`rate(${bucketSelector}[${window}])`)}))`
}

export const identity = (e: string): string => e
