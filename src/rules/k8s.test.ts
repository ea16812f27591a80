import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { parse, parseAllDocuments } from 'yaml'
import { parseConfig } from '../config/index.js'
import { findBinary } from '../testing/index.js'
import { checkK8sDocument, type K8sDoc, k8sDocuments } from '../testing/k8s-schemas.js'
import {
  ENGINE_PORTS,
  type EngineType,
  K8S_RUN_AS,
  planRules,
  renderRuleFile,
  renderRulesFiles,
} from './index.js'

const run = promisify(execFile)

async function kustomize(kubectl: string, dir: string): Promise<string> {
  const r = await run(kubectl, ['kustomize', dir], { maxBuffer: 32 * 1024 * 1024 })
  return String(r.stdout)
}
const TYPES: EngineType[] = ['vllm', 'tgi', 'sglang', 'llamacpp']

const FOUR_ENGINES = {
  adminToken: 's3cret-token',
  engines: [
    { type: 'vllm', targets: ['vllm.llm.svc:8000', 'vllm-b.llm.svc:8000'] },
    { type: 'tgi', targets: ['tgi.llm.svc:3000'] },
    { type: 'sglang', targets: ['sglang.llm.svc:30000'], metricsPath: '/metrics' },
    { type: 'llamacpp', targets: ['llama.llm.svc:8080'] },
  ],
  k8s: {
    namespace: 'llm',
    monitorLabels: { release: 'monitoring' },
    engines: { vllm: { selector: { app: 'vllm-server' }, port: 'api', namespaces: ['gpu'] } },
  },
}

const CONFIGS: [string, Record<string, unknown>][] = [
  ['default config', {}],
  ['four engines, admin token, namespace', FOUR_ENGINES],
  ...TYPES.map((engine): [string, Record<string, unknown>] => [`engine ${engine}`, { engine }]),
]

const docsOf = (raw: Record<string, unknown>) =>
  k8sDocuments(renderRulesFiles(planRules(parseConfig(raw))))
const ofKind = (docs: K8sDoc[], kind: string) => docs.filter((d) => d.kind === kind)
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v)

for (const [name, raw] of CONFIGS) {
  test(`k8s (${name}): every document validates against the Kubernetes and Prometheus Operator schemas`, () => {
    const docs = docsOf(raw)
    assert.ok(docs.length >= 6)
    for (const d of docs) checkK8sDocument(d)
  })

  test(`k8s (${name}): selectors, ports, Secret references and probes line up`, () => {
    const docs = docsOf(raw)
    const deployments = ofKind(docs, 'Deployment')
    const services = ofKind(docs, 'Service')
    assert.ok(deployments.length >= 1)
    assert.equal(services.length, deployments.length)
    const secrets = new Map(ofKind(docs, 'Secret').map((s) => [s.metadata.name, s]))
    const configMaps = new Set(ofKind(docs, 'ConfigMap').map((c) => c.metadata.name))
    for (const d of deployments) {
      const pod = d.spec.template
      assert.ok(matches(d.spec.selector.matchLabels, pod.metadata.labels), d.metadata.name)
      // No two Deployments select each other's pods.
      for (const other of deployments)
        if (other !== d)
          assert.ok(!matches(d.spec.selector.matchLabels, other.spec.template.metadata.labels))
      const [c] = pod.spec.containers
      const ports = new Set(c.ports.map((p: { name: string }) => p.name))
      for (const probe of [c.readinessProbe, c.livenessProbe]) {
        const port = probe.httpGet?.port ?? probe.tcpSocket?.port
        assert.ok(ports.has(port), `probe port ${port}`)
        // Probes never hit an endpoint behind the admin token.
        if (probe.httpGet) assert.equal(probe.httpGet.path, '/healthz')
      }
      for (const v of pod.spec.volumes)
        if (v.configMap) assert.ok(configMaps.has(v.configMap.name), v.configMap.name)
      for (const e of c.env ?? []) {
        const ref = e.valueFrom.secretKeyRef
        assert.ok(secrets.get(ref.name)?.stringData?.[ref.key], `${ref.name}/${ref.key}`)
      }
      const svc = services.find((s) => s.metadata.name === d.metadata.name)
      assert.ok(
        svc && matches(svc.spec.selector, pod.metadata.labels),
        `Service ${d.metadata.name}`,
      )
      for (const p of svc.spec.ports) assert.ok(ports.has(p.targetPort), p.targetPort)
    }
    const [sm] = ofKind(docs, 'ServiceMonitor')
    assert.ok(sm)
    for (const svc of services) {
      assert.ok(matches(sm.spec.selector.matchLabels, svc.metadata.labels), svc.metadata.name)
      assert.ok(svc.metadata.labels?.[sm.spec.jobLabel], 'jobLabel names a Service label')
      for (const ep of sm.spec.endpoints)
        assert.ok(svc.spec.ports.some((p: { name: string }) => p.name === ep.port))
    }
    for (const ep of sm.spec.endpoints) {
      const cred = ep.authorization?.credentials
      if (cred) assert.ok(secrets.get(cred.name)?.stringData?.[cred.key], 'ServiceMonitor secret')
    }
    // Everything in one namespace (the ServiceMonitor's Secret must be in its own).
    assert.equal(new Set(docs.map((d) => d.metadata.namespace)).size, 1)
  })

  test(`k8s (${name}): pods meet the "restricted" Pod Security Standard; image and pull policy`, () => {
    const config = parseConfig(raw)
    for (const d of ofKind(docsOf(raw), 'Deployment')) {
      const spec = d.spec.template.spec
      assert.equal(spec.securityContext.runAsNonRoot, true)
      assert.equal(spec.securityContext.seccompProfile.type, 'RuntimeDefault')
      assert.ok(spec.securityContext.runAsUser > 0)
      assert.equal(spec.hostNetwork ?? false, false)
      assert.equal(spec.volumes.filter((v: object) => 'hostPath' in v).length, 0)
      for (const c of spec.containers) {
        const sc = c.securityContext
        assert.equal(sc.allowPrivilegeEscalation, false)
        assert.deepEqual(sc.capabilities.drop, ['ALL'])
        assert.equal(sc.capabilities.add, undefined)
        assert.equal(sc.privileged ?? false, false)
        assert.equal(sc.readOnlyRootFilesystem, true)
        assert.equal(c.image, config.k8s.image)
        assert.equal(c.imagePullPolicy, 'IfNotPresent')
        for (const p of c.ports) assert.equal(p.hostPort, undefined)
      }
    }
  })
}

test('the schema checks can fail: a wrong type, enum or missing field is caught', () => {
  const [dep] = ofKind(docsOf({}), 'Deployment')
  const [sm] = ofKind(docsOf({}), 'ServiceMonitor')
  assert.ok(dep && sm)
  const broken: [K8sDoc, (d: K8sDoc) => void, RegExp][] = [
    [
      dep,
      (d) => {
        d.spec.template.spec.containers[0].imagePullPolicy = 'Sometimes'
      },
      /imagePullPolicy/,
    ],
    [
      dep,
      (d) => {
        d.spec.template.spec.securityContext.runAsNonRoot = 'yes'
      },
      /runAsNonRoot/,
    ],
    [
      dep,
      (d) => {
        delete d.spec.template.spec.containers[0].name
      },
      /name/,
    ],
    [
      sm,
      (d) => {
        d.spec.endpoints[0].port = 9464
      },
      /port/,
    ],
    [
      sm,
      (d) => {
        d.spec.endpoints[0].authorization = { credentials: 'inline' }
      },
      /credentials/,
    ],
  ]
  for (const [doc, breakIt, message] of broken) {
    const copy = structuredClone(doc)
    breakIt(copy)
    assert.throws(() => checkK8sDocument(copy), message)
  }
})

test('kubectl kustomize builds k8s/ (where kubectl is installed)', async (t) => {
  const kubectl = findBinary('kubectl')
  if (!kubectl) {
    t.skip('kubectl not installed')
    return
  }
  for (const [, raw] of CONFIGS) {
    const dir = mkdtempSync(join(tmpdir(), 'iw-k8s-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const files = renderRulesFiles(planRules(parseConfig(raw))).filter((f) =>
      f.path.startsWith('k8s/'),
    )
    for (const f of files) writeFileSync(join(dir, f.path.slice(4)), f.text)
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      `resources:\n${files.map((f) => `- ${f.path.slice(4)}\n`).join('')}`,
    )
    const built: K8sDoc[] = parseAllDocuments(await kustomize(kubectl, dir)).map(
      (d) => d.toJS() as K8sDoc,
    )
    const ids = (docs: K8sDoc[]) => docs.map((d) => `${d.kind}/${d.metadata.name}`).sort()
    assert.deepEqual(ids(built), ids(k8sDocuments(files)))
  }
})

test('k8s: one proxy per engine target, on the port each engine listens on', () => {
  // Default upstream (loopback, in a pod the pod itself): a Service named after the engine type.
  for (const type of TYPES) {
    const [d] = ofKind(docsOf({ engine: type }), 'Deployment')
    const args: string[] = d?.spec.template.spec.containers[0].args
    assert.equal(args[args.indexOf('--upstream') + 1], `http://${type}:${ENGINE_PORTS[type]}`)
    assert.equal(d?.metadata.name, `inferwatch-${type}`)
  }
  assert.deepEqual(ENGINE_PORTS, { vllm: 8000, tgi: 3000, sglang: 30000, llamacpp: 8080 })
  const upstreams = ofKind(docsOf(FOUR_ENGINES), 'Deployment').map((d) => {
    const args: string[] = d.spec.template.spec.containers[0].args
    return [d.metadata.name, args[args.indexOf('--upstream') + 1]]
  })
  assert.deepEqual(upstreams, [
    ['inferwatch-vllm', 'http://vllm.llm.svc:8000'],
    ['inferwatch-vllm-2', 'http://vllm-b.llm.svc:8000'],
    ['inferwatch-tgi', 'http://tgi.llm.svc:3000'],
    ['inferwatch-sglang', 'http://sglang.llm.svc:30000'],
    ['inferwatch-llamacpp', 'http://llama.llm.svc:8080'],
  ])
  // `upstream` itself, when it is not loopback; https kept.
  const [d] = ofKind(docsOf({ upstream: 'https://vllm.prod.svc:8443' }), 'Deployment')
  assert.ok(d?.spec.template.spec.containers[0].args.includes('https://vllm.prod.svc:8443'))
})

test('k8s config: monitor labels, engine selectors, port names, namespaces, image', () => {
  const docs = docsOf(FOUR_ENGINES)
  for (const d of docs.filter((x) => x.apiVersion.startsWith('monitoring.coreos.com')))
    assert.equal(d.metadata.labels?.release, 'monitoring', `${d.kind} ${d.metadata.name}`)
  const pm = (type: string) =>
    ofKind(docs, 'PodMonitor').find((p) => p.metadata.name === `inferwatch-${type}`)
  assert.deepEqual(pm('vllm')?.spec.selector.matchLabels, { app: 'vllm-server' })
  assert.equal(pm('vllm')?.spec.podMetricsEndpoints[0].port, 'api')
  assert.deepEqual(pm('vllm')?.spec.namespaceSelector, { matchNames: ['gpu'] })
  assert.deepEqual(pm('tgi')?.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'tgi' })
  assert.equal(pm('tgi')?.spec.namespaceSelector, undefined)
  assert.equal(ofKind(docs, 'PodMonitor').length, 4)
  // Defaults: kube-prometheus-stack's `release: <Helm release>`, no namespace (kubectl -n).
  const defaults = docsOf({})
  for (const d of defaults.filter((x) => x.apiVersion.startsWith('monitoring.coreos.com')))
    assert.equal(d.metadata.labels?.release, 'kube-prometheus-stack')
  assert.ok(defaults.every((d) => d.metadata.namespace === undefined))
  const custom = docsOf({
    k8s: { image: 'registry.example/inferwatch:0.1.0', imagePullPolicy: 'Always', replicas: 3 },
  })
  const [dep] = ofKind(custom, 'Deployment')
  assert.equal(dep?.spec.replicas, 3)
  assert.equal(dep?.spec.template.spec.containers[0].image, 'registry.example/inferwatch:0.1.0')
  assert.equal(dep?.spec.template.spec.containers[0].imagePullPolicy, 'Always')
})

test('k8s config: bad values are rejected with the key named', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ k8s: { imagePullPolicy: 'Sometimes' } }, /k8s\.imagePullPolicy/],
    [{ k8s: { namespace: 'LLM_Prod' } }, /k8s\.namespace/],
    [{ k8s: { monitorLabels: { 'bad key!': 'x' } } }, /k8s\.monitorLabels/],
    [{ k8s: { engines: { vllm: { port: 'a-port-name-too-long' } } } }, /k8s\.engines\.vllm\.port/],
    [{ k8s: { engines: { ollama: {} } } }, /ollama/],
    [{ k8s: { relase: {} } }, /relase/],
  ]
  for (const [raw, message] of bad) assert.throws(() => parseConfig(raw), message)
})

test('k8s: the admin token end to end, and nothing about it without one', () => {
  const withToken = docsOf({ adminToken: 'tok' })
  const [secret] = ofKind(withToken, 'Secret')
  assert.equal(secret?.stringData.token, 'tok')
  const [sm] = ofKind(withToken, 'ServiceMonitor')
  assert.deepEqual(sm?.spec.endpoints[0].authorization, {
    type: 'Bearer',
    credentials: { name: secret?.metadata.name, key: 'token' },
  })
  const [dep] = ofKind(withToken, 'Deployment')
  assert.deepEqual(dep?.spec.template.spec.containers[0].env, [
    {
      name: 'INFERWATCH_ADMIN_TOKEN',
      valueFrom: { secretKeyRef: { name: secret?.metadata.name, key: 'token' } },
    },
  ])
  const without = docsOf({})
  assert.equal(ofKind(without, 'Secret').length, 0)
  assert.equal(ofKind(without, 'ServiceMonitor')[0]?.spec.endpoints[0].authorization, undefined)
  assert.equal(ofKind(without, 'Deployment')[0]?.spec.template.spec.containers[0].env, undefined)
  // prometheus.yml: the inferwatch job sends the token; no other job does.
  const prom = parse(
    renderRulesFiles(planRules(parseConfig({ adminToken: 'tok' })))[0]?.text ?? '',
  ) as { scrape_configs: { job_name: string; authorization?: unknown }[] }
  assert.deepEqual(
    prom.scrape_configs.filter((s) => s.authorization).map((s) => [s.job_name, s.authorization]),
    [['inferwatch', { type: 'Bearer', credentials: 'tok' }]],
  )
})

test('k8s: the PrometheusRule mirrors every rule of the rule file, per Service', () => {
  const plan = planRules(parseConfig({}))
  const names = (groups: { rules: { record?: string; alert?: string }[] }[]) =>
    groups.flatMap((g) => g.rules.map((r) => r.record ?? r.alert))
  const file = parse(renderRuleFile(plan)) as { groups: { rules: object[] }[] }
  const [rule] = docsOf({}).filter((d) => d.kind === 'PrometheusRule')
  assert.deepEqual(names(rule?.spec.groups), names(file.groups))
  assert.ok(names(file.groups).length >= 36)
  const text = JSON.stringify(rule?.spec)
  assert.match(text, /sum by \(namespace, job, engine, model\)/)
  // The backlog stays per engine pod; TargetMissing watches inferwatch's job only.
  assert.match(
    text,
    /sum by \(namespace, job, instance, engine, model\) \(label_replace\(vllm:num_requests_running/,
  )
  assert.match(text, /up\{job=\\"inferwatch\\"\} == 0/)
  assert.equal(K8S_RUN_AS, 1000)
})
