import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { parseConfig } from '../config/index.js'
import { runPromTool } from '../testing/prom-stack.js'
import { buildAlertRules } from './_alerts.js'
import { type AlertName, planRules, type RulesPlan } from './_plan.js'
import { expandTemplate } from './_template.js'
import type { ExpAlert, InputSeries, Labels, TestCase } from './_test-model.js'
import { series } from './_test-model.js'
import { renderK8sPrometheusRule } from './k8s.js'
import { GROUP_ORDER, renderRuleFile } from './rule-files.js'

// The rules in a shared cluster, on series labelled the way the Prometheus Operator labels them:
// `namespace`, `pod`, `container`, `endpoint` (the port name), `instance` (pod IP:port), `job` =
// `<namespace>/<PodMonitor>` for pod monitors and the Service's jobLabel value for the
// ServiceMonitor (https://prometheus-operator.dev/docs/developer/getting-started/).

const MINUTES = 12
const values = (v: number) => `${v}x${MINUTES * 2}`
const EVAL = `${MINUTES - 1}m`

interface Setting {
  /** The proxy's admin target. */
  proxy: Labels
  /** kube-prometheus-stack's etcd job, down on most managed clusters. */
  etcd: Labels
  vllmPod(n: number): Labels
  /** Labels the fleet sum keeps. */
  fleet: string
}

const K8S: Setting = {
  // job: the ServiceMonitor's jobLabel (app.kubernetes.io/name) on the proxy Services.
  proxy: {
    job: 'inferwatch',
    namespace: 'llm',
    service: 'inferwatch-vllm',
    pod: 'inferwatch-vllm-7d9f-abcde',
    container: 'inferwatch',
    endpoint: 'admin',
    instance: '10.1.0.7:9464',
  },
  etcd: {
    job: 'kube-etcd',
    namespace: 'kube-system',
    service: 'kube-prometheus-stack-kube-etcd',
    pod: 'etcd-control-plane',
    endpoint: 'http-metrics',
    instance: '172.18.0.2:2381',
  },
  vllmPod: (n) => ({
    job: 'llm/inferwatch-vllm',
    namespace: 'llm',
    pod: `vllm-${n}`,
    container: 'vllm',
    endpoint: 'http',
    instance: `10.1.0.${10 + n}:8000`,
    engine: 'vllm',
    model_name: 'qwen3-4b',
  }),
  fleet: '{job="llm/inferwatch-vllm", namespace="llm", engine="vllm", model="qwen3-4b"}',
}

/** prometheus.yml's jobs in a Prometheus that also scrapes someone else's etcd. */
const SINGLE: Setting = {
  proxy: { job: 'inferwatch', instance: '127.0.0.1:9464' },
  etcd: { job: 'kube-etcd', instance: '172.18.0.2:2381' },
  vllmPod: (n) => ({
    job: 'vllm',
    instance: `gpu-${n}:8000`,
    engine: 'vllm',
    model_name: 'qwen3-4b',
  }),
  fleet: '{job="vllm", engine="vllm", model="qwen3-4b"}',
}

function expected(plan: RulesPlan, alert: AlertName, labels: Labels, value: number): ExpAlert {
  const rule = buildAlertRules(plan).find((r) => r.alert === alert)
  if (!rule) throw new Error(`no ${alert}`)
  return {
    exp_labels: { ...labels, severity: rule.labels.severity },
    exp_annotations: {
      summary: expandTemplate(rule.annotations.summary, labels, value),
      description: expandTemplate(rule.annotations.description, labels, value),
      runbook_url: rule.annotations.runbook_url,
    },
  }
}

const input = (name: string, labels: Labels, v: number): InputSeries => ({
  series: series(name, labels),
  values: values(v),
})

function cases(plan: RulesPlan, at: Setting): TestCase[] {
  const alertCase = (
    name: string,
    alert: AlertName,
    inputSeries: InputSeries[],
    exp: ExpAlert[],
  ): TestCase => ({
    name,
    interval: '30s',
    input_series: inputSeries,
    alert_rule_test: [{ eval_time: EVAL, alertname: alert, exp_alerts: exp }],
  })
  const backlog = (pod: Labels, running: number, waiting: number) => [
    input('vllm:num_requests_running', pod, running),
    input('vllm:num_requests_waiting', pod, waiting),
  ]
  // The alert keeps the recording rule's labels: the plan's groupBy + instance, engine, model.
  const out = (pod: Labels): Labels => {
    const { model_name, pod: _pod, container: _c, endpoint: _e, ...rest } = pod
    return { ...rest, model: model_name ?? '' }
  }
  const p0 = at.vllmPod(0)
  const p1 = at.vllmPod(1)
  return [
    alertCase(
      'another job down (kube-etcd): not inferwatch to report',
      'InferwatchTargetMissing',
      [input('up', at.etcd, 0), input('up', at.proxy, 1)],
      [],
    ),
    alertCase(
      "inferwatch's own admin target down",
      'InferwatchTargetMissing',
      [input('up', at.etcd, 0), input('up', at.proxy, 0)],
      [expected(plan, 'InferwatchTargetMissing', at.proxy, 0)],
    ),
    {
      ...alertCase(
        'two replicas at 4 each: below 8 per engine',
        'LLMBacklogHigh',
        [...backlog(p0, 3, 1), ...backlog(p1, 2, 2)],
        [],
      ),
      // The fleet keeps its own sum.
      promql_expr_test: [
        {
          expr: 'llm:requests_running:fleet_sum + llm:requests_waiting:fleet_sum',
          eval_time: EVAL,
          exp_samples: [{ labels: at.fleet, value: 8 }],
        },
      ],
    },
    alertCase(
      'one replica at 8 fires, for that pod only',
      'LLMBacklogHigh',
      [...backlog(p0, 6, 2), ...backlog(p1, 0, 0)],
      [expected(plan, 'LLMBacklogHigh', out(p0), 8)],
    ),
  ]
}

async function promtoolTest(
  t: { after: (fn: () => void) => void },
  rules: unknown,
  tests: TestCase[],
) {
  const dir = mkdtempSync(join(tmpdir(), 'iw-k8s-rules-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'rules.yml'), JSON.stringify(rules))
  writeFileSync(
    join(dir, 'tests.yml'),
    JSON.stringify({
      rule_files: ['rules.yml'],
      evaluation_interval: '30s',
      group_eval_order: [...GROUP_ORDER],
      tests,
    }),
  )
  return runPromTool('promtool', ['test', 'rules', 'tests.yml'], dir)
}

const config = parseConfig({ alerts: { language: 'en' } })

test('k8s PrometheusRule on operator-labelled series: own targets only, backlog per engine pod', async (t) => {
  const rule = parse(renderK8sPrometheusRule(planRules(config))) as { spec: unknown }
  // The plan the PrometheusRule renders with: per Service, inferwatch's own job.
  const plan = {
    ...planRules(config, { groupBy: ['namespace', 'job'] }),
    targetJobs: ['inferwatch'],
  }
  const result = await promtoolTest(t, rule.spec, cases(plan, K8S))
  assert.equal(result.code, 0, result.output)
  assert.match(result.output, /SUCCESS/)
})

test('prometheus.yml rules in a Prometheus that also scrapes other jobs: the same holds', async (t) => {
  const plan = planRules(config)
  const result = await promtoolTest(t, parse(renderRuleFile(plan)), cases(plan, SINGLE))
  assert.equal(result.code, 0, result.output)
  assert.match(result.output, /SUCCESS/)
})

// The old expressions: summing the backlog across replicas, any job's `up == 0`.
const OLD: [AlertName, string, string][] = [
  [
    'LLMBacklogHigh',
    'llm:requests_running:fleet_sum + llm:requests_waiting:fleet_sum >= 8',
    'two replicas',
  ],
  [
    'InferwatchTargetMissing',
    'up{engine=""} == 0 or absent(up{job="inferwatch"}) or inferwatch_gpu_collector_up == 0',
    'another job down',
  ],
]
for (const [alert, oldExpr, caseName] of OLD) {
  test(`the ${alert} case can fail: the old rule fails "${caseName}"`, async (t) => {
    const plan = {
      ...planRules(config, { groupBy: ['namespace', 'job'] }),
      targetJobs: ['inferwatch'],
    }
    const rule = parse(renderK8sPrometheusRule(planRules(config))) as {
      spec: { groups: { rules: { alert?: string; expr: string }[] }[] }
    }
    const found = rule.spec.groups.flatMap((g) => g.rules).filter((r) => r.alert === alert)
    assert.equal(found.length, 1)
    for (const r of found) r.expr = oldExpr
    const only = cases(plan, K8S).filter((c) => c.name.startsWith(caseName))
    assert.equal(only.length, 1)
    const result = await promtoolTest(t, rule.spec, only)
    assert.notEqual(result.code, 0)
    assert.match(result.output, new RegExp(alert))
  })
}
