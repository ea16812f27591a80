import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { describe, type TestContext, test } from 'node:test'
import { parseConfig } from '../config/index.js'
import { renderPrometheusConfig } from '../rules/index.js'
import { type FakeEngine, startFakeEngine, vllmRoutes } from '../testing/fake-engines.js'
import { closeServer, listenLocal } from '../testing/index.js'
import {
  listPrometheusTargets,
  pickFreePort,
  startAlertmanager,
  startPrometheus,
  waitUntil,
} from '../testing/prom-stack.js'
import { startRulesStack } from '../testing/rules-stack.js'
import { CONTRACT_ALERTS } from './_prometheus-checks.js'
import { runDoctor } from './run-doctor.js'
import type { DoctorCheck, DoctorReport } from './types.js'

// Doctor against the REAL Prometheus 2.42 and Alertmanager 0.25 binaries (make test installs them).

function check(report: DoctorReport, id: string): DoctorCheck {
  const c = report.checks.find((x) => x.id === id)
  assert.ok(c, `no check ${id}`)
  return c
}

const hostPort = (url: string) => new URL(url).host

const GPU_LABELS = 'gpu="0",hw_id="GPU-1",hw_name="NVIDIA GeForce RTX 4090 D"'
const GPU_TEXT = `hw_gpu_memory_usage_bytes{${GPU_LABELS}} 21000000000\nhw_gpu_memory_limit_bytes{${GPU_LABELS}} 24000000000\ninferwatch_gpu_collector_up 1\n`

/** Every contract alert, as a rule that never fires; LLMGPUMemoryHigh with the given threshold. */
function rulesYaml(gpuThreshold: number): string {
  const rules = CONTRACT_ALERTS.map((name) =>
    name === 'LLMGPUMemoryHigh'
      ? `      - alert: ${name}\n        expr: max(vector(0.5)) > ${gpuThreshold}\n        for: 30s`
      : `      - alert: ${name}\n        expr: vector(0) > 1`,
  )
  return `groups:\n  - name: inferwatch\n    interval: 1s\n    rules:\n${rules.join('\n')}\n`
}

function promYaml(o: {
  engine: string
  admin: string
  ghost?: string
  am: string
  rules: boolean
}): string {
  const job = (name: string, target: string) =>
    `  - job_name: ${name}\n    scrape_interval: 1s\n    static_configs: [ { targets: ["${target}"] } ]\n`
  return [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    o.rules ? 'rule_files: [inferwatch.rules.yml]' : '',
    `alerting:\n  alertmanagers:\n    - static_configs: [ { targets: ["${o.am}"] } ]`,
    'scrape_configs:',
    job('engine', o.engine) + job('inferwatch', o.admin) + (o.ghost ? job('ghost', o.ghost) : ''),
  ].join('\n')
}

const amYaml = (receiverUrl: string | undefined) =>
  receiverUrl
    ? `route: { receiver: relay }\nreceivers:\n  - name: relay\n    webhook_configs: [ { url: "${receiverUrl}", send_resolved: true } ]\n`
    : 'route: { receiver: mail }\nreceivers:\n  - name: mail\n    email_configs: [ { to: "ops@example.com", from: "am@example.com", smarthost: "127.0.0.1:25" } ]\n'

/** The fake vLLM engine serving `engineMetrics`, and an admin server whose /metrics is `adminMetrics`. */
async function startEngineAndAdmin(
  t: TestContext,
  engineMetrics: string,
  adminMetrics: string,
): Promise<{ engine: FakeEngine; adminUrl: string }> {
  const engine = await startFakeEngine(vllmRoutes({ maxModelLen: 65536, metrics: engineMetrics }))
  t.after(() => engine.close())
  const adminServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
    res.end(adminMetrics)
  })
  const adminUrl = await listenLocal(adminServer)
  t.after(() => closeServer(adminServer))
  return { engine, adminUrl }
}

describe('runDoctor against real Prometheus and Alertmanager', () => {
  test('broken setup -> every failure found; fixed setup -> all pass', async (t) => {
    // The engine reserves 93 % of the GPU: the config's 0.92 would be wrong, the deployed rule's 0.97 is right.
    const { engine, adminUrl } = await startEngineAndAdmin(
      t,
      'vllm:cache_config_info{block_size="16",gpu_memory_utilization="0.93",num_gpu_blocks="6108"} 1\nvllm:num_requests_running{model_name="m"} 0\n',
      'inferwatch_build_info{version="0.1.0"} 1\n',
    )
    const am = await startAlertmanager({ configYaml: amYaml(`${adminUrl}/hooks/alertmanager`) })
    t.after(() => am.close())
    const ghost = `127.0.0.1:${await pickFreePort()}`
    const base = { engine: hostPort(engine.url), admin: hostPort(adminUrl), am: hostPort(am.url) }
    const prom = await startPrometheus({
      configYaml: promYaml({ ...base, ghost, rules: false }),
      ruleFiles: { 'inferwatch.rules.yml': rulesYaml(0.97) },
    })
    t.after(() => prom.close())
    const options = {
      upstream: engine.url,
      prometheus: prom.url,
      alertmanager: am.url,
      adminUrl,
      timeoutMs: 3000,
      gpuMemoryAlertRatio: 0.92,
    }
    await waitUntil('every target scraped once and Alertmanager discovered', async () => {
      const targets = await listPrometheusTargets(prom.url)
      const scraped = targets.length === 3 && targets.every((x) => x.health !== 'unknown')
      const r = scraped ? await runDoctor(options) : undefined
      return r && check(r, 'prometheus.alertmanager').status === 'pass' ? true : undefined
    })

    const broken = await runDoctor(options)
    assert.equal(broken.ok, false)
    assert.equal(check(broken, 'prometheus.up').status, 'pass')
    const targets = check(broken, 'prometheus.targets')
    assert.equal(targets.status, 'fail')
    assert.match(
      targets.finding,
      new RegExp(`ghost http://${ghost}/metrics is down: .*connection refused`),
    )
    const rules = check(broken, 'prometheus.rules')
    assert.equal(rules.status, 'fail')
    assert.equal(rules.finding, 'none of the inferwatch alerts is loaded')
    assert.equal(check(broken, 'prometheus.alertmanager').status, 'pass')
    const relay = check(broken, 'alertmanager.relay')
    assert.equal(relay.status, 'pass')
    assert.match(
      relay.finding,
      /Alertmanager 0\.25\.\d+: receiver relay posts to http:\/\/127\.0\.0\.1:\d+\/hooks\/alertmanager/,
    )
    assert.equal(check(broken, 'inferwatch.admin').status, 'pass')
    // No rule loaded yet: the config's 0.92 is compared with the engine's 0.93.
    assert.equal(check(broken, 'gpu.memory-threshold').status, 'fail')

    prom.writeFiles({ 'prometheus.yml': promYaml({ ...base, rules: true }) })
    await prom.reload()
    await waitUntil('rules loaded and the ghost target gone', async () => {
      const r = await runDoctor(options)
      return check(r, 'prometheus.rules').status === 'pass' &&
        check(r, 'prometheus.targets').status === 'pass' &&
        check(r, 'prometheus.alertmanager').status === 'pass'
        ? r
        : undefined
    })
    const fixed = await runDoctor(options)
    assert.equal(check(fixed, 'prometheus.targets').status, 'pass')
    assert.equal(
      check(fixed, 'prometheus.rules').finding,
      `all ${CONTRACT_ALERTS.length} inferwatch alerts loaded`,
    )
    const threshold = check(fixed, 'gpu.memory-threshold')
    assert.equal(threshold.status, 'pass')
    assert.match(threshold.finding, /fires above 97% \(the rule loaded in Prometheus\)/)
    // Alerts loaded, but this hand-written rule file has no recording rules: no alert input has data.
    assert.deepEqual(
      fixed.checks.filter((c) => c.status === 'fail' || c.status === 'warn').map((c) => c.id),
      ['prometheus.data'],
    )
    assert.match(
      check(fixed, 'prometheus.data').finding,
      /^no data for GPU memory \(LLMGPUMemoryHigh\) from llm:gpu_memory_usage:ratio; KV-cache usage \(LLMKVCacheHigh\) from llm:kv_cache_usage:ratio: that alert cannot fire$/,
    )
    assert.equal(fixed.ok, true)

    // Alertmanager without the relay receiver.
    writeFileSync(am.configPath, amYaml(undefined))
    await am.reload()
    const noRelay = await runDoctor(options)
    const r = check(noRelay, 'alertmanager.relay')
    assert.equal(r.status, 'fail')
    assert.match(r.finding, /no receiver posts to \/hooks\/alertmanager/)
    assert.equal(noRelay.ok, false)
  })

  test('the files `inferwatch rules` generates pass every doctor check', async (t) => {
    const { engine, adminUrl } = await startEngineAndAdmin(
      t,
      'vllm:cache_config_info{block_size="16",gpu_memory_utilization="0.9",num_gpu_blocks="6108"} 1\nvllm:num_requests_running{model_name="m"} 0\nvllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.2\n',
      `inferwatch_build_info{version="0.1.0"} 1\n${GPU_TEXT}`,
    )
    const base = {
      upstream: engine.url,
      admin: hostPort(adminUrl),
      gpuMemoryUtilization: 0.9,
      alerts: { profile: 'test', language: 'en' },
    }
    // Alertmanager's webhook defaults to the relay on the admin address.
    const stack = await startRulesStack(base)
    t.after(() => stack.close())
    const { am, prom } = stack
    // The generated config scrapes Prometheus itself at prometheus.url: now that its port is known.
    const final = parseConfig({
      ...base,
      alertmanager: { url: am.url },
      prometheus: { url: prom.url },
    })
    prom.writeFiles({ 'prometheus.yml': renderPrometheusConfig(final) })
    await prom.reload()
    const options = {
      upstream: engine.url,
      prometheus: prom.url,
      alertmanager: am.url,
      adminUrl,
      timeoutMs: 3000,
    }
    const report = await waitUntil('a clean report', async () => {
      const r = await runDoctor(options)
      return r.checks.every((c) => c.status === 'pass' || c.status === 'skip') ? r : undefined
    }).catch(async (err: unknown) => {
      const r = await runDoctor(options)
      const bad = r.checks.filter((c) => c.status === 'fail' || c.status === 'warn')
      throw new Error(`${String(err)}\n${JSON.stringify(bad, null, 2)}`)
    })
    assert.equal(report.ok, true)
    assert.equal(
      check(report, 'prometheus.rules').finding,
      `all ${CONTRACT_ALERTS.length} inferwatch alerts loaded`,
    )
    assert.match(
      check(report, 'alertmanager.relay').finding,
      new RegExp(`posts to ${adminUrl}/hooks/alertmanager`),
    )
    assert.match(
      check(report, 'gpu.memory-threshold').finding,
      /fires above 92% \(the rule loaded in Prometheus\)/,
    )
    assert.deepEqual(
      report.checks.filter((c) => c.status === 'skip').map((c) => c.id),
      ['engine.log', 'gpu.visible'],
    )
  })

  test('Prometheus and Alertmanager not running: fail with how to start them', async (t) => {
    const engine = await startFakeEngine(vllmRoutes({ maxModelLen: 65536 }))
    t.after(() => engine.close())
    const report = await runDoctor({
      upstream: engine.url,
      prometheus: `http://127.0.0.1:${await pickFreePort()}`,
      alertmanager: `http://127.0.0.1:${await pickFreePort()}`,
      timeoutMs: 1000,
    })
    const up = check(report, 'prometheus.up')
    assert.equal(up.status, 'fail')
    assert.match(up.finding, /connection refused/)
    assert.match(up.fix ?? '', /start Prometheus/)
    assert.equal(check(report, 'prometheus.rules').status, 'skip')
    assert.match(check(report, 'alertmanager.relay').fix ?? '', /start Alertmanager/)
  })
})
