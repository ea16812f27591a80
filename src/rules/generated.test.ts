import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse, parseAllDocuments } from 'yaml'
import { parseConfig } from '../config/index.js'
import { assertGolden, REPO_ROOT } from '../testing/index.js'
import { runPromTool } from '../testing/prom-stack.js'
import {
  ALERT_NAMES,
  checkRulesPlan,
  LLM_RECORDING_RULES,
  planRules,
  renderRulesFiles,
  writeRules,
} from './index.js'

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'iw-rules-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

for (const language of ['zh', 'en'] as const) {
  test(`generated files pass promtool check/test and amtool (${language})`, async (t) => {
    const dir = tmp(t)
    const config = parseConfig({
      alerts: { language },
      nodeExporter: { targets: ['127.0.0.1:9100'] },
    })
    const { files } = await writeRules(config, dir)
    assert.equal(files.length, 8)
    const check = await runPromTool('promtool', ['check', 'config', 'prometheus.yml'], dir)
    assert.equal(check.code, 0, check.output)
    assert.match(check.output, /SUCCESS: \d+ rules found/)
    const rules = await runPromTool(
      'promtool',
      ['check', 'rules', 'inferwatch.rules.yml'],
      join(dir, 'rules'),
    )
    assert.equal(rules.code, 0, rules.output)
    const unit = await runPromTool(
      'promtool',
      ['test', 'rules', 'inferwatch.test.yml'],
      join(dir, 'rules'),
    )
    assert.equal(unit.code, 0, unit.output)
    assert.match(unit.output, /SUCCESS/)
    const am = await runPromTool('amtool', ['check-config', 'alertmanager.yml'], dir)
    assert.equal(am.code, 0, am.output)
    assert.match(am.output, /2 inhibit rules/)
  })
}

test('custom thresholds, SLO and long-context boundary: the generated promtool tests follow', async (t) => {
  const dir = tmp(t)
  const config = parseConfig({
    contextClasses: { longFromTokens: 50000 },
    alerts: {
      language: 'en',
      gpuMemoryHigh: { ratio: 0.97, forSeconds: 45 },
      slowTimeToFirstToken: { p95Seconds: 0.8 },
      errorBudgetBurn: { objective: 0.99 },
      backlogHigh: { requests: 3 },
    },
  })
  await writeRules(config, dir)
  const rules = readFileSync(join(dir, 'rules/inferwatch.rules.yml'), 'utf8')
  assert.match(rules, /le=~"50000\(\.0\)\?"/)
  assert.match(rules, /llm:request_errors:ratio_rate1h > 0\.144 and/)
  const unit = await runPromTool(
    'promtool',
    ['test', 'rules', 'inferwatch.test.yml'],
    join(dir, 'rules'),
  )
  assert.equal(unit.code, 0, unit.output)
})

test('the promtool tests catch a broken rule (they can fail)', async (t) => {
  const dir = tmp(t)
  await writeRules(parseConfig({}), dir)
  const file = join(dir, 'rules/inferwatch.rules.yml')
  const text = readFileSync(file, 'utf8')
  // vLLM < 0.9.2 only exports gpu_cache_usage_perc: dropping the alias must fail a test.
  writeFileSync(file, text.replace(' or vllm:gpu_cache_usage_perc', ''))
  // Only the KV-cache case, to keep this quick.
  const testsFile = join(dir, 'rules/inferwatch.test.yml')
  const tests = parse(readFileSync(testsFile, 'utf8')) as { tests: { name: string }[] }
  tests.tests = tests.tests.filter((c) => c.name === 'LLMKVCacheHigh')
  assert.equal(tests.tests.length, 1)
  writeFileSync(testsFile, JSON.stringify(tests))
  const unit = await runPromTool(
    'promtool',
    ['test', 'rules', 'inferwatch.test.yml'],
    join(dir, 'rules'),
  )
  assert.notEqual(unit.code, 0)
  assert.match(unit.output, /LLMKVCacheHigh/)
  assert.match(unit.output, /gpu-b:8000/)
})

test('every contract name is recorded and every contract alert exists, with severity and runbook', () => {
  const files = renderRulesFiles(planRules(parseConfig({ alerts: { language: 'en' } })))
  const rules = parse(files.find((f) => f.path === 'rules/inferwatch.rules.yml')?.text ?? '') as {
    groups: { name: string; rules: Record<string, unknown>[] }[]
  }
  const all = rules.groups.flatMap((g) => g.rules)
  const records = new Set(all.map((r) => r.record).filter(Boolean))
  for (const name of LLM_RECORDING_RULES) assert.ok(records.has(name), `missing record ${name}`)
  const alerts = all.filter((r) => r.alert)
  assert.deepEqual([...new Set(alerts.map((a) => a.alert))].sort(), [...ALERT_NAMES].sort())
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
  for (const a of alerts) {
    const labels = a.labels as Record<string, string>
    const ann = a.annotations as Record<string, string>
    assert.match(labels.severity ?? '', /^(critical|warning)$/)
    assert.ok(ann.summary && ann.description, `${a.alert} annotations`)
    const anchor = /#([a-z]+)$/.exec(ann.runbook_url ?? '')?.[1]
    assert.equal(anchor, String(a.alert).toLowerCase())
    assert.match(
      readme,
      new RegExp(`^#### ${a.alert}$`, 'm'),
      `README runbook has no #### ${a.alert}`,
    )
  }
  const gpu = alerts.find((a) => a.alert === 'LLMGPUMemoryHigh')
  assert.equal(gpu?.expr, 'llm:gpu_memory_usage:ratio > 0.92')
  assert.equal(gpu?.for, '30s')
  assert.equal(alerts.find((a) => a.alert === 'LLMLongContextOverload')?.for, '2m')
})

test('thresholds and for durations come from the config; the test profile shrinks only timing', () => {
  const config = parseConfig({
    alerts: { gpuMemoryHigh: { ratio: 0.97, forSeconds: 45 }, queueTimeHigh: { seconds: 0.5 } },
  })
  const rules = (plan: ReturnType<typeof planRules>) =>
    (
      parse(renderRulesFiles(plan)[1]?.text ?? '') as {
        groups: { rules: Record<string, string>[] }[]
      }
    ).groups
      .flatMap((g) => g.rules)
      .filter((r) => r.alert)
  const normal = rules(planRules(config))
  assert.equal(
    normal.find((r) => r.alert === 'LLMGPUMemoryHigh')?.expr,
    'llm:gpu_memory_usage:ratio > 0.97',
  )
  assert.equal(normal.find((r) => r.alert === 'LLMGPUMemoryHigh')?.for, '45s')
  assert.equal(
    normal.find((r) => r.alert === 'LLMQueueTimeHigh')?.expr,
    'llm:queue_time_seconds:mean5m > 0.5',
  )
  const fast = rules(planRules(config, { profile: 'test' }))
  assert.equal(
    fast.find((r) => r.alert === 'LLMGPUMemoryHigh')?.expr,
    'llm:gpu_memory_usage:ratio > 0.97',
  )
  assert.equal(fast.find((r) => r.alert === 'LLMGPUMemoryHigh')?.for, '2s')
  const prom = parse(renderRulesFiles(planRules(config, { profile: 'test' }))[0]?.text ?? '') as {
    global: Record<string, string>
  }
  assert.equal(prom.global.scrape_interval, '1s')
})

test('prometheus.yml: engine every 5 s with an engine label, several instances, admin, node, self, AM', () => {
  const config = parseConfig({
    engines: [
      { type: 'vllm', targets: ['10.0.0.1:8000', '10.0.0.2:8000'] },
      { type: 'tgi', targets: ['10.0.0.3:9000'] },
    ],
    nodeExporter: { targets: ['10.0.0.1:9100'] },
    prometheus: { url: 'http://10.0.0.9:9090' },
    alertmanager: { url: 'http://10.0.0.9:9093' },
  })
  const prom = parse(renderRulesFiles(planRules(config))[0]?.text ?? '') as {
    global: Record<string, string>
    rule_files: string[]
    alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] }
    scrape_configs: {
      job_name: string
      scrape_interval?: string
      static_configs: { targets: string[]; labels?: Record<string, string> }[]
    }[]
  }
  const job = (n: string) => prom.scrape_configs.find((s) => s.job_name === n)
  assert.equal(prom.global.scrape_interval, '15s')
  assert.deepEqual(prom.rule_files, ['rules/inferwatch.rules.yml'])
  assert.deepEqual(job('inferwatch')?.static_configs[0]?.targets, ['127.0.0.1:9464'])
  assert.equal(job('vllm')?.scrape_interval, '5s')
  assert.deepEqual(job('vllm')?.static_configs[0], {
    targets: ['10.0.0.1:8000', '10.0.0.2:8000'],
    labels: { engine: 'vllm' },
  })
  assert.deepEqual(job('tgi')?.static_configs[0]?.labels, { engine: 'tgi' })
  assert.deepEqual(job('node')?.static_configs[0]?.targets, ['10.0.0.1:9100'])
  assert.deepEqual(job('prometheus')?.static_configs[0]?.targets, ['10.0.0.9:9090'])
  assert.deepEqual(prom.alerting.alertmanagers[0]?.static_configs[0]?.targets, ['10.0.0.9:9093'])
})

test('alertmanager.yml: severity routes, group_by, relay webhook with bearer token, inhibition', () => {
  const config = parseConfig({ admin: '0.0.0.0:9464', adminToken: 's3cret' })
  const am = parse(renderRulesFiles(planRules(config))[3]?.text ?? '') as Record<string, unknown>
  const route = am.route as {
    group_by: string[]
    routes: { matchers: string[]; receiver: string }[]
  }
  assert.deepEqual(route.group_by, ['alertname', 'model', 'instance'])
  assert.deepEqual(
    route.routes.map((r) => r.matchers[0]),
    ['severity="critical"', 'severity="warning"'],
  )
  const receivers = am.receivers as {
    webhook_configs: { url: string; send_resolved: boolean; http_config: unknown }[]
  }[]
  for (const r of receivers) {
    assert.equal(r.webhook_configs[0]?.url, 'http://127.0.0.1:9464/hooks/alertmanager')
    assert.equal(r.webhook_configs[0]?.send_resolved, true)
    assert.deepEqual(r.webhook_configs[0]?.http_config, {
      authorization: { type: 'Bearer', credentials: 's3cret' },
    })
  }
  const inhibit = am.inhibit_rules as { source_matchers: string[]; target_matchers: string[] }[]
  assert.deepEqual(inhibit[0], {
    source_matchers: ['alertname="LLMEngineDown"'],
    target_matchers: ['severity="warning"'],
    equal: ['instance'],
  })
  // Only a hook token (no admin token): Alertmanager must send that one.
  const hookOnly = parse(
    renderRulesFiles(planRules(parseConfig({ relay: { hookToken: 'h00k' } })))[3]?.text ?? '',
  ) as { receivers: { webhook_configs: { http_config?: unknown }[] }[] }
  assert.deepEqual(hookOnly.receivers[0]?.webhook_configs[0]?.http_config, {
    authorization: { type: 'Bearer', credentials: 'h00k' },
  })
})

test('grafana and k8s: valid documents that use only recorded llm:* names', async (t) => {
  const files = renderRulesFiles(planRules(parseConfig({})))
  const text = (p: string) => files.find((f) => f.path === p)?.text ?? ''
  const rules = text('rules/inferwatch.rules.yml')
  const dash = JSON.parse(text('grafana/inferwatch.json')) as {
    panels: { targets: { expr: string }[] }[]
    templating: { list: { type: string }[] }
  }
  assert.ok(dash.templating.list.some((v) => v.type === 'datasource'))
  // Every panel works for every engine: recorded llm:* names, or the proxy's own request
  // histogram (the context-class panel), never an engine's raw metric.
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr))
  const raw = exprs.filter((e) => !e.startsWith('llm:'))
  assert.deepEqual(raw, [
    'sum by (context_class) (rate(gen_ai_server_request_duration_seconds_count[1m]))',
  ])
  const used = new Set(exprs.map((e) => /^(llm:[a-z0-9_:]+)/.exec(e)?.[1]).filter(Boolean))
  assert.ok(used.size >= 12)
  for (const name of used)
    assert.ok(name && rules.includes(`record: ${name}\n`), `${name} is not recorded`)
  const kinds = ['k8s/prometheus-rule.yaml', 'k8s/monitors.yaml', 'k8s/proxy.yaml'].flatMap((p) =>
    parseAllDocuments(text(p)).map((d) => (d.toJS() as { kind: string }).kind),
  )
  assert.deepEqual(kinds, [
    'PrometheusRule',
    'ServiceMonitor',
    'PodMonitor',
    'ConfigMap',
    'Deployment',
    'Service',
  ])
  // Proxy pods have no GPU: their mounted config turns the collector off, so
  // inferwatch_gpu_collector_up 0 cannot keep InferwatchTargetMissing firing.
  const [cm, deploy] = parseAllDocuments(text('k8s/proxy.yaml')).map((d) => d.toJS()) as [
    { data: Record<string, string> },
    { spec: { template: { spec: { containers: { args: string[] }[] } } } },
  ]
  const proxyConfig = parseConfig(parse(cm.data['inferwatch.yaml'] ?? '') as object)
  assert.equal(proxyConfig.gpu.enabled, false)
  // ...and meters as this config says: the same context classes and attribution.
  const tuned = renderRulesFiles(
    planRules(
      parseConfig({
        contextClasses: { mediumFromTokens: 8192, longFromTokens: 65536 },
        attribution: { header: 'X-App-Name', aliases: { 'key-1a2b3c4d': 'search' }, maxClients: 5 },
      }),
    ),
  )
  const tunedCm = parseAllDocuments(
    tuned.find((f) => f.path === 'k8s/proxy.yaml')?.text ?? '',
  )[0]?.toJS() as {
    data: Record<string, string>
  }
  const pod = parseConfig(parse(tunedCm.data['inferwatch.yaml'] ?? '') as object)
  assert.deepEqual(pod.contextClasses, { mediumFromTokens: 8192, longFromTokens: 65536 })
  assert.deepEqual(pod.attribution, {
    header: 'x-app-name',
    aliases: { 'key-1a2b3c4d': 'search' },
    maxClients: 5,
  })
  assert.equal(pod.gpu.enabled, false)
  const args = deploy.spec.template.spec.containers[0]?.args ?? []
  assert.equal(args[args.indexOf('--config') + 1], '/etc/inferwatch/inferwatch.yaml')
  // Per Service across replicas: the PrometheusRule aggregates by namespace and job, not pod.
  assert.match(text('k8s/prometheus-rule.yaml'), /sum by \(namespace, job, engine, model\)/)
  // Per pod only where it must be: the backlog (per engine instance) and GPU memory (per host).
  const perPod = [
    ...text('k8s/prometheus-rule.yaml').matchAll(
      /by \(namespace, job, instance, engine, model\) \((?:max without \([^)]*\) \()?(?:label_replace\()?([a-z_:]+)/g,
    ),
  ].map((m) => m[1])
  assert.deepEqual([...new Set(perPod)].sort(), [
    'llamacpp:requests_deferred',
    'llamacpp:requests_processing',
    'sglang:num_queue_reqs',
    'sglang:num_running_reqs',
    'tgi_batch_current_size',
    'tgi_queue_size',
    'vllm:num_requests_running',
    'vllm:num_requests_waiting',
  ])
  // The PrometheusRule's groups are a valid rule file for promtool.
  const spec = (parse(text('k8s/prometheus-rule.yaml')) as { spec: unknown }).spec
  const dir = tmp(t)
  writeFileSync(join(dir, 'k8s.rules.yml'), JSON.stringify(spec))
  const check = await runPromTool('promtool', ['check', 'rules', 'k8s.rules.yml'], dir)
  assert.equal(check.code, 0, check.output)
  assert.match(check.output, /SUCCESS: \d+ rules found/)
})

test('warns when the GPU-memory threshold sits at vLLM gpu_memory_utilization', () => {
  // vLLM's own default pre-allocation (0.92 in current vllm/config/cache.py) sits at the default
  // 92 % LLMGPUMemoryHigh threshold.
  const w = checkRulesPlan(planRules(parseConfig({ gpuMemoryUtilization: 0.92 })))
  assert.equal(w.length, 1)
  assert.match(w[0] ?? '', /0\.92.*--gpu-memory-utilization.*fire all the time/)
  // inferwatch assumes --gpu-memory-utilization 0.9 by default: the alert stays meaningful.
  assert.deepEqual(checkRulesPlan(planRules(parseConfig({}))), [])
  assert.deepEqual(checkRulesPlan(planRules(parseConfig({ gpuMemoryUtilization: 0.85 }))), [])
  assert.deepEqual(
    checkRulesPlan(
      planRules(
        parseConfig({ gpuMemoryUtilization: 0.92, alerts: { gpuMemoryHigh: { ratio: 0.97 } } }),
      ),
    ),
    [],
  )
  assert.deepEqual(
    checkRulesPlan(planRules(parseConfig({ engine: 'llamacpp', gpuMemoryUtilization: 0.92 }))),
    [],
  )
  // vLLM's prompt-token buckets are 1-2-5 values: 131072 has none, so vLLM alone cannot say.
  const long = (longFromTokens: number, engine = 'vllm') =>
    checkRulesPlan(
      planRules(parseConfig({ engine, contextClasses: { mediumFromTokens: 1, longFromTokens } })),
    )
  const odd = long(131072)
  assert.equal(odd.length, 1)
  assert.match(odd[0] ?? '', /longFromTokens is 131072.*\(\.\.\., 100000, 200000, \.\.\.\)/)
  assert.deepEqual(long(200000), [])
  assert.deepEqual(long(50000), [])
  assert.deepEqual(long(131072, 'tgi'), [])
})

test('golden files pin the generated surfaces (UPDATE_GOLDEN=1 rewrites them)', () => {
  const files = renderRulesFiles(
    planRules(parseConfig({ nodeExporter: { targets: ['127.0.0.1:9100'] } })),
  )
  // One golden file per generated file, its path flattened (rules/x.yml -> rules__x.yml).
  for (const f of files) assertGolden('rules', f.path.replaceAll('/', '__'), f.text)
})

test('rule config keys are validated: ranges, unknown keys', () => {
  assert.throws(
    () => parseConfig({ alerts: { gpuMemoryHigh: { ratio: 92 } } }),
    /alerts\.gpuMemoryHigh\.ratio/,
  )
  assert.throws(() => parseConfig({ alerts: { gpuMemoryHgh: {} } }), /gpuMemoryHgh/)
  assert.throws(() => parseConfig({ engines: [{ type: 'ollama', targets: ['x:1'] }] }), /engines/)
  assert.throws(() => parseConfig({ engines: [{ type: 'vllm', targets: [] }] }), /engines/)
  const c = parseConfig({})
  assert.equal(c.alerts.language, 'zh')
  assert.equal(c.alerts.gpuMemoryHigh.ratio, 0.92)
  assert.equal(c.alerts.gpuMemoryHigh.forSeconds, 30)
  assert.equal(c.alerts.longContextOverload.forSeconds, 120)
  assert.equal(c.prometheus.engineScrapeIntervalSeconds, 5)
  assert.equal(planRules(c).webhookUrl, 'http://127.0.0.1:9464/hooks/alertmanager')
})
