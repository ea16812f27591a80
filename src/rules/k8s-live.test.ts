import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse, stringify } from 'yaml'
import { main } from '../cli/index.js'
import { parseConfig } from '../config/index.js'
import { startScriptedEngine } from '../sim/index.js'
import { captureIo } from '../testing/cli-io.js'
import { type K8sDoc, k8sDocuments } from '../testing/k8s-schemas.js'
import { listPrometheusTargets, startPrometheus, waitUntil } from '../testing/prom-stack.js'
import { planRules, renderPrometheusConfig, renderRulesFiles } from './index.js'

// A proxy pod as k8s/ describes it, run here: the Deployment's own args (listen addresses on
// loopback port 0, the upstream Service resolved to a scripted engine), the ConfigMap as --config,
// INFERWATCH_ADMIN_TOKEN from the Secret. Then a real Prometheus scrapes its token-protected
// admin server: with prometheus.yml's `inferwatch` job, and with the ServiceMonitor's endpoint as
// the operator turns it into a scrape job (credentials read from the Secret).

const TOKEN = 'k8s-live-token'
const MODEL = 'qwen3-4b-instruct-2507'

function podOf(docs: K8sDoc[]) {
  const deployment = docs.find((d) => d.kind === 'Deployment')
  const configMap = docs.find((d) => d.kind === 'ConfigMap')
  const secret = docs.find((d) => d.kind === 'Secret')
  const monitor = docs.find((d) => d.kind === 'ServiceMonitor')
  assert.ok(deployment && configMap && secret && monitor)
  const container = deployment.spec.template.spec.containers[0]
  const secretValue = (ref: { name: string; key: string }) => {
    assert.equal(ref.name, secret.metadata.name)
    const v = secret.stringData[ref.key]
    assert.equal(typeof v, 'string')
    return v as string
  }
  const env: Record<string, string> = {}
  for (const e of container.env) env[e.name] = secretValue(e.valueFrom.secretKeyRef)
  return { container, configMap, monitor, env, secretValue }
}

test('live k8s pod: the Deployment args serve; Prometheus scrapes the token-protected admin (up)', async (t) => {
  const engine = await startScriptedEngine({ servedModels: [MODEL], maxModelLen: 32768 })
  t.after(() => engine.close())
  const docs = k8sDocuments(
    renderRulesFiles(
      planRules(
        parseConfig({
          adminToken: TOKEN,
          engines: [{ type: 'vllm', targets: ['vllm.llm.svc:8000'] }],
        }),
      ),
    ),
  )
  const pod = podOf(docs)
  assert.deepEqual(pod.env, { INFERWATCH_ADMIN_TOKEN: TOKEN })

  const dir = mkdtempSync(join(tmpdir(), 'iw-k8s-pod-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const [file, text] = Object.entries(pod.configMap.data as Record<string, string>)[0] ?? []
  assert.ok(file && text !== undefined)
  writeFileSync(join(dir, file), text)

  const args: string[] = [...pod.container.args]
  const set = (flag: string, value: string) => {
    const i = args.indexOf(flag)
    assert.ok(i > 0, flag)
    args[i + 1] = value
  }
  assert.equal(args[args.indexOf('--upstream') + 1], 'http://vllm.llm.svc:8000')
  set('--upstream', engine.url)
  set('--listen', '127.0.0.1:0')
  set('--admin', '127.0.0.1:0')
  assert.equal(
    args[args.indexOf('--config') + 1],
    `${pod.container.volumeMounts[0].mountPath}/${file}`,
  )
  set('--config', join(dir, file))

  const stop = new AbortController()
  const cli = captureIo(stop.signal)
  cli.io.env = pod.env
  const exited = main(args, cli.io)
  t.after(async () => {
    stop.abort()
    await exited
  })
  const line = await waitUntil(
    'the proxy to listen',
    async () =>
      /listening on (http:\/\/\S+) .*metrics at (http:\/\/\S+)\/metrics/.exec(cli.out.join('')) ??
      undefined,
  )
  const [, proxyUrl = '', adminUrl = ''] = line

  // Probes: liveness needs no token; readiness is a TCP connect to the proxy port.
  const live = pod.container.livenessProbe.httpGet
  assert.equal((await fetch(`${adminUrl}${live.path}`)).status, 200)
  assert.equal(pod.container.readinessProbe.tcpSocket.port, 'http')
  await new Promise<void>((resolve, reject) => {
    const s = connect(Number(new URL(proxyUrl).port), '127.0.0.1', () => {
      s.end()
      resolve()
    }).on('error', reject)
  })
  assert.equal((await fetch(`${adminUrl}/metrics`)).status, 401)
  const reply = await fetch(`${proxyUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 2,
    }),
  })
  assert.equal(reply.status, 200)

  // prometheus.yml for this admin address and token (inline, and from prometheus.adminTokenFile),
  // the ServiceMonitor's endpoint as a job, and one without credentials (it must be the token
  // that makes the others up).
  const admin = new URL(adminUrl).host
  const tokenFile = join(dir, 'admin-token')
  writeFileSync(tokenFile, `${TOKEN}\n`)
  const render = (extra: Record<string, unknown>) =>
    parse(
      renderPrometheusConfig(
        parseConfig({
          admin,
          adminToken: TOKEN,
          upstream: engine.url,
          // The test profile: 1 s scrapes.
          alerts: { profile: 'test' },
          ...extra,
        }),
      ),
    ) as { scrape_configs: Record<string, unknown>[] }
  const prom = render({})
  const fromFile = render({ prometheus: { adminTokenFile: tokenFile } }).scrape_configs.find(
    (j) => j.job_name === 'inferwatch',
  )
  assert.deepEqual(fromFile?.authorization, { type: 'Bearer', credentials_file: tokenFile })
  const ep = pod.monitor.spec.endpoints[0]
  prom.scrape_configs.push(
    { ...fromFile, job_name: 'token-file' },
    {
      job_name: 'servicemonitor',
      metrics_path: ep.path,
      authorization: {
        type: ep.authorization.type,
        credentials: pod.secretValue(ep.authorization.credentials),
      },
      static_configs: [{ targets: [admin] }],
    },
    { job_name: 'no-token', metrics_path: ep.path, static_configs: [{ targets: [admin] }] },
  )
  const prometheus = await startPrometheus({ configYaml: stringify(prom) })
  t.after(() => prometheus.close())
  const health = await waitUntil('the admin targets to be scraped', async () => {
    const targets = await listPrometheusTargets(prometheus.url)
    const byJob = new Map(targets.map((x) => [x.job, x]))
    const jobs = ['inferwatch', 'token-file', 'servicemonitor', 'no-token'].map((j) => byJob.get(j))
    return jobs.every((x) => x && x.health !== 'unknown') ? jobs : undefined
  })
  const [own, withFile, monitor, none] = health
  assert.equal(own?.health, 'up', own?.lastError)
  assert.equal(withFile?.health, 'up', withFile?.lastError)
  assert.equal(monitor?.health, 'up', monitor?.lastError)
  assert.equal(none?.health, 'down')
  assert.match(none?.lastError ?? '', /401/)
})
