// Who and where, live: real Prometheus (test profile: 1 s scrapes and evaluations) runs the rules
// `inferwatch rules` writes, over `inferwatch proxy` in front of the engine simulator and three
// simulated vLLM releases. llm:request_phase_seconds:mean5m has queue, prefill and decode for
// every vLLM release and outside_engine for the proxy; llm:client_long_context_requests:share_rate5m
// names the client that sends the long prompts, and so does LLMLongContextOverload's description.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseConfig } from '../config/index.js'
import { startProxyService } from '../server/index.js'
import { type EngineSimulator, promptOfTokens, startSimulator } from '../sim/index.js'
import { findBinary } from '../testing/index.js'
import {
  listPrometheusAlerts,
  listPrometheusTargets,
  queryPrometheus,
  waitUntil,
} from '../testing/prom-stack.js'
import { startRulesStack } from '../testing/rules-stack.js'

const skip =
  findBinary('prometheus') && findBinary('prometheus-alertmanager')
    ? false
    : 'needs prometheus and prometheus-alertmanager (make test installs them)'

const MODEL = 'qwen3-4b-instruct-2507'
// Low thresholds so that "long" prompts stay quick to simulate in real time: 300 tokens is long.
const CLASSES = { mediumFromTokens: 100, longFromTokens: 250 }

test('live: phases for every vLLM release and the proxy; the long-context share and alert name the client', {
  skip,
}, async (t) => {
  const sims: EngineSimulator[] = []
  for (const version of ['0.8', '0.10', '0.12']) {
    const sim = await startSimulator({
      engine: 'vllm',
      engineVersion: version,
      model: MODEL,
      gpu: 'rtx-4090d',
      gpuMemoryUtilization: 0.9,
      // Real time: the engine's own durations and the proxy's are then on one clock.
      speed: 1,
      host: '127.0.0.1',
      port: 0,
    })
    t.after(() => sim.close())
    sims.push(sim)
  }
  const front = sims[2] as EngineSimulator
  const service = await startProxyService(
    parseConfig({
      upstream: front.url,
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      gpu: { enabled: false },
      contextClasses: CLASSES,
    }),
  )
  t.after(() => service.close())
  const host = (s: EngineSimulator) => new URL(s.url).host
  const admin = new URL(service.adminUrl).host
  const stack = await startRulesStack({
    upstream: front.url,
    admin,
    contextClasses: CLASSES,
    alerts: { profile: 'test', language: 'en' },
    engines: [{ type: 'vllm', targets: sims.map(host) }],
  })
  t.after(() => stack.close())
  const { prom } = stack
  await waitUntil('every target scraped', async () => {
    const up = (await listPrometheusTargets(prom.url)).filter((x) => x.health === 'up')
    const instances = up.map((x) => x.instance)
    return [...sims.map(host), admin].every((i) => instances.includes(i)) ? true : undefined
  })

  const post = async (base: string, tokens: number, user: string) => {
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        messages: [{ role: 'user', content: promptOfTokens(tokens) }],
        max_tokens: 4,
        user,
      }),
    })
    assert.equal(res.status, 200)
    await res.arrayBuffer()
  }
  // Three rounds, a second apart: batch-summarizer sends 3 long prompts per round, web 1 long
  // and 3 short ones; each simulated vLLM also gets a request of its own.
  for (let round = 0; round < 3; round++) {
    await Promise.all([
      ...Array.from({ length: 3 }, () => post(service.proxyUrl, 300, 'batch-summarizer')),
      post(service.proxyUrl, 300, 'web'),
      ...Array.from({ length: 3 }, () => post(service.proxyUrl, 20, 'web')),
      ...sims.slice(0, 2).map((s) => post(s.url, 20, 'direct')),
    ])
    await new Promise((r) => setTimeout(r, 1000))
  }

  const phases = await waitUntil(
    'queue, prefill and decode for every vLLM release; outside_engine for the proxy',
    async () => {
      const r = await queryPrometheus(prom.url, 'llm:request_phase_seconds:mean5m')
      const have = new Set(r.map((s) => `${s.labels.instance} ${s.labels.phase}`))
      const want = [
        ...sims.flatMap((s) => ['queue', 'prefill', 'decode'].map((p) => `${host(s)} ${p}`)),
        `${admin} outside_engine`,
      ]
      return want.every((w) => have.has(w)) ? r : undefined
    },
    { timeoutMs: 60_000 },
  )
  for (const s of phases) {
    t.diagnostic(`${s.labels.instance} ${s.labels.phase}: ${s.value.toFixed(4)} s`)
    assert.ok(Number.isFinite(s.value), `${JSON.stringify(s.labels)} ${s.value}`)
    if (s.labels.phase === 'outside_engine') {
      // One clock: the proxy sees each request start before and end after the engine does, so the
      // difference is the proxy's and the loopback's few milliseconds (the three releases' means
      // differ a little: the proxy fronts one of them).
      assert.equal(s.labels.model, MODEL)
      assert.ok(s.value > -0.05 && s.value < 0.5, `outside_engine ${s.value}`)
    } else if (s.labels.phase === 'queue') {
      // Near 0 at this load. The simulator replays late engine steps at their own simulated
      // times, so on a busy machine a request arriving during a replay is scheduled "before" its
      // arrival: its mean can dip a little under 0.
      assert.ok(s.value > -0.5 && s.value < 5, `queue ${s.value}`)
    } else {
      assert.ok(s.value > 0 && s.value < 30, `${s.labels.phase} ${s.value}`)
    }
  }

  const share = await waitUntil(
    'the client share of long-context requests',
    async () => {
      const r = await queryPrometheus(prom.url, 'llm:client_long_context_requests:share_rate5m')
      return r.length === 2 ? r : undefined
    },
    { timeoutMs: 60_000 },
  )
  const byClient = Object.fromEntries(share.map((s) => [s.labels.client, s.value]))
  t.diagnostic(`long-context share by client: ${JSON.stringify(byClient)}`)
  assert.ok((byClient['batch-summarizer'] ?? 0) > 0.6, JSON.stringify(byClient))
  assert.ok((byClient.web ?? 1) < 0.4, JSON.stringify(byClient))
  assert.ok(Math.abs((byClient['batch-summarizer'] ?? 0) + (byClient.web ?? 0) - 1) < 1e-9)
  assert.ok(share.every((s) => s.labels.instance === admin && s.labels.client !== 'direct'))

  // 12 of 18 proxied requests are long (> 30 %): the alert fires and says who sends them.
  const alert = await waitUntil(
    'LLMLongContextOverload firing',
    async () => {
      const a = (await listPrometheusAlerts(prom.url)).find(
        (x) => x.labels.alertname === 'LLMLongContextOverload' && x.state === 'firing',
      )
      return a
    },
    { timeoutMs: 60_000 },
  )
  assert.match(
    alert.annotations.description ?? '',
    /Top client: batch-summarizer \(\d+(\.\d+)?% of the long requests\)\.$/,
  )
})
