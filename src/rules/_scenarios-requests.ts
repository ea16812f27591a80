import { errorBudget } from './_alerts.js'
import type { Firing } from './_scenario-kit.js'
import { type AlertScenario, MODEL, out, proxy, type ScenarioKit, vllm } from './_scenario-kit.js'
import { clean } from './_test-model.js'

/** Long-context share, error ratio, TTFT, error-budget burn: request-level, mostly the proxy. */
export function requestScenarios(kit: ScenarioKit): AlertScenario[] {
  const { th, c, under, rate, plan } = kit
  const scenarios: AlertScenario[] = []
  // Long context: the proxy's context_class; vLLM's prompt histogram only for models the proxy
  // does not meter (qwen3-4b on gpu-b is metered by the proxy: no second alert for it).
  const lcHi = clean((th.longContextRatio + 1) / 2)
  const lcLo = under(th.longContextRatio)
  const d = 'gen_ai_server_request_duration_seconds_count'
  const le = `${plan.longFromTokens}.0`
  const ok = { error_type: '' }
  scenarios.push({
    alert: 'LLMLongContextOverload',
    startSeconds: rate,
    input: [
      c(d, proxy('proxy-a:9464', { context_class: 'long', ...ok }), 100 * lcHi),
      c(d, proxy('proxy-a:9464', { context_class: 'short', ...ok }), 100 * (1 - lcHi)),
      c(d, proxy('proxy-b:9464', { context_class: 'long', ...ok }), 100 * lcLo),
      c(d, proxy('proxy-b:9464', { context_class: 'medium', ...ok }), 100 * (1 - lcLo)),
      c('vllm:request_prompt_tokens_count', vllm('gpu-a:8000', 'other-model'), 10),
      c(
        'vllm:request_prompt_tokens_bucket',
        vllm('gpu-a:8000', 'other-model', { le }),
        10 * (1 - lcHi),
      ),
      c('vllm:request_prompt_tokens_count', vllm('gpu-b:8000'), 10),
      c('vllm:request_prompt_tokens_bucket', vllm('gpu-b:8000', MODEL, { le }), 0),
    ],
    firing: [
      {
        labels: out('inferwatch', 'proxy-a:9464', 'vllm', MODEL),
        severity: 'critical',
        value: lcHi,
      },
      {
        labels: out('vllm', 'gpu-a:8000', 'vllm', 'other-model'),
        severity: 'critical',
        value: lcHi,
      },
    ],
  })

  // Errors: server-side only; 4xx and client aborts do not count.
  const eHi = clean(Math.min(0.9, th.errorRatio * 2))
  const eLo = under(th.errorRatio)
  const errSeries = (instance: string, type: string, share: number) => [
    c(d, proxy(instance, { context_class: 'short', error_type: type }), 1000 * share),
    c(d, proxy(instance, { context_class: 'short', error_type: '' }), 1000 * (1 - share)),
  ]
  scenarios.push({
    alert: 'LLMHighErrorRate',
    startSeconds: rate,
    input: [
      ...errSeries('proxy-a:9464', '500', eHi),
      ...errSeries('proxy-b:9464', 'upstream_timeout', eLo),
      ...errSeries('proxy-c:9464', '400', 0.5),
      c(d, proxy('proxy-c:9464', { context_class: 'short', error_type: 'client_abort' }), 500),
    ],
    firing: [
      {
        labels: out('inferwatch', 'proxy-a:9464', 'vllm', MODEL),
        severity: 'critical',
        value: eHi,
      },
    ],
  })

  // TTFT p95 against the SLO: all requests in (slo, 2*slo] vs (slo/2, slo].
  const s = th.ttftP95Seconds
  const bounds = [s / 2, s, 2 * s].map((b) => String(clean(b)))
  const ttft = (instance: string, counts: number[]) =>
    [...bounds, '+Inf'].map((b, i) =>
      c(
        'gen_ai_server_time_to_first_token_seconds_bucket',
        proxy(instance, { context_class: 'short', le: b }),
        counts[i] ?? 10,
      ),
    )
  scenarios.push({
    alert: 'LLMSlowTimeToFirstToken',
    startSeconds: rate,
    input: [...ttft('proxy-a:9464', [0, 0, 10, 10]), ...ttft('proxy-b:9464', [0, 10, 10, 10])],
    firing: [
      {
        labels: out('inferwatch', 'proxy-a:9464', 'vllm', MODEL),
        severity: 'warning',
        value: clean(1.95 * s),
      },
    ],
  })

  // Burn rates: 20x budget pages (and tickets), 5x tickets only, 0.5x is silent.
  const b = errorBudget(th.objective)
  const fast = clean(Math.min(1, 20 * b))
  const slow = clean(Math.min(1, 5 * b))
  const burnFiring: Firing[] = []
  if (fast > 14.4 * b) {
    burnFiring.push({
      labels: out('inferwatch', 'proxy-a:9464', 'vllm', MODEL),
      severity: 'critical',
      value: fast,
    })
  }
  burnFiring.push({
    labels: out('inferwatch', 'proxy-a:9464', 'vllm', MODEL),
    severity: 'warning',
    value: fast,
  })
  if (slow > 3 * b && slow <= 6 * b) {
    burnFiring.push({
      labels: out('inferwatch', 'proxy-b:9464', 'vllm', MODEL),
      severity: 'warning',
      value: slow,
    })
  }
  scenarios.push({
    alert: 'LLMErrorBudgetBurn',
    startSeconds: rate,
    input: [
      ...errSeries('proxy-a:9464', '503', fast),
      ...errSeries('proxy-b:9464', '503', slow),
      ...errSeries('proxy-c:9464', '503', clean(0.5 * b)),
    ],
    firing: burnFiring,
  })

  return scenarios
}
