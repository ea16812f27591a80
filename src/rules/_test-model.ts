// Shapes of a promtool unit-test file, Prometheus 2.42
// (https://prometheus.io/docs/prometheus/latest/configuration/unit_testing_rules/).

export interface InputSeries {
  series: string
  values: string
}

export interface ExpAlert {
  exp_labels: Record<string, string>
  exp_annotations: Record<string, string>
}

export interface AlertTest {
  eval_time: string
  alertname: string
  exp_alerts: ExpAlert[]
}

export interface ExprTest {
  expr: string
  eval_time: string
  exp_samples: { labels: string; value: number }[]
}

export interface TestCase {
  name: string
  interval: string
  input_series: InputSeries[]
  alert_rule_test?: AlertTest[]
  promql_expr_test?: ExprTest[]
}

export type Labels = Record<string, string>

/** `name{a="b",c="d"}` in promtool's series notation. */
export function series(name: string, labels: Labels): string {
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')
  return `${name}{${body}}`
}

/** Cleans float noise from generated sample values (0.1 * 3 -> 0.3). */
export function clean(v: number): number {
  return Number(v.toPrecision(12))
}

export interface Timeline {
  /** Seconds between samples and between rule evaluations. */
  stepSeconds: number
  /** Samples per series (covers the latest eval_time). */
  samples: number
}

export function gaugeValues(t: Timeline, v: number): string {
  return `${clean(v)}x${t.samples}`
}

export function counterValues(t: Timeline, perStep: number): string {
  return `0+${clean(perStep)}x${t.samples}`
}

export function seconds(s: number): string {
  return `${s}s`
}
