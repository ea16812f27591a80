// Hostile webhook bodies through the real relay server to real (fake) chat APIs: mutations of
// real Alertmanager payloads (dropped and retyped fields, huge and empty strings, lone
// surrogates, deep nesting, cut or garbled JSON). The relay must answer 2xx or 4xx (a 5xx makes
// Alertmanager retry the same body forever), stay up, keep its labels bounded, and deliver a
// valid payload afterwards.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import {
  type FakeChat,
  startFakeDingtalk,
  startFakeFeishu,
  startFakeSlack,
  startFakeWebhook,
  startFakeWecom,
} from '../testing/chat-fakes/index.js'
import { deepJson, fuzz, hostileJson, hostileString, watchEventLoop } from '../testing/fuzz.js'
import {
  captureLogger,
  fakeClock,
  localPayload,
  localPayloads,
  relayConfig,
  sharedPayloads,
} from '../testing/relay-kit.js'
import { graphemes } from './_text.js'
import { HOOK_PATH, type RelayServer, startRelayServer } from './index.js'

const MAX_BODY_BYTES = 1024 * 1024
const CHANNELS = ['dt', 'wc', 'fs', 'sl', 'wh', 'out'] as const
const STATUSES = new Set(['delivered', 'failed', 'rejected', 'duplicate', 'skipped', 'pending'])

const clock = fakeClock()
const fakes: FakeChat[] = []
let relay: RelayServer
let logLines: string[]
let stdout = ''

before(async () => {
  const opt = { now: clock.now }
  const [dt, wc, fs, sl, wh] = await Promise.all([
    startFakeDingtalk(opt),
    startFakeWecom(opt),
    startFakeFeishu(opt),
    startFakeSlack(opt),
    startFakeWebhook(opt),
  ])
  fakes.push(dt, wc, fs, sl, wh)
  const { logger, lines } = captureLogger()
  logLines = lines
  relay = await startRelayServer({
    host: '127.0.0.1',
    port: 0,
    logger,
    now: clock.now,
    sleep: clock.sleep,
    writeStdout: (t) => {
      // Kept short: only whether something was written matters here.
      stdout = (stdout + t).slice(-10_000)
    },
    config: relayConfig({
      maxBodyBytes: MAX_BODY_BYTES,
      channels: [
        { name: 'dt', type: 'dingtalk', url: dt.url },
        { name: 'wc', type: 'wecom', url: wc.url, language: 'en' },
        { name: 'fs', type: 'feishu', url: fs.url },
        { name: 'sl', type: 'slack', url: sl.url, language: 'en' },
        {
          name: 'wh',
          type: 'webhook',
          url: wh.url,
          bodyTemplate: '{"title":"{{title}}","n":{{count}},"text":"{{text}}"}',
        },
        { name: 'out', type: 'file', path: '-', msgType: 'markdown' },
      ],
    }),
  })
})
after(async () => {
  await relay.close()
  await Promise.all(fakes.map((f) => f.close()))
})

const bases = [...localPayloads(), ...sharedPayloads()]
  .filter((p, i, all) => all.findIndex((q) => q.name === p.name) === i)
  .map((p) => ({ name: p.name, value: JSON.parse(p.body) as unknown }))

type Path = (string | number)[]

function pathsOf(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (typeof v !== 'object' || v === null) return out
  for (const [k, x] of Object.entries(v)) {
    const p = [...at, Array.isArray(v) ? Number(k) : k]
    out.push(p)
    pathsOf(x, p, out)
  }
  return out
}

type Mutation =
  | { op: 'drop' | 'surrogate' | 'surrogateKey'; at: number }
  | { op: 'set'; at: number; value: unknown }
  | { op: 'huge'; at: number; size: number }
  | { op: 'nest'; at: number; depth: number }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constantFrom('drop', 'surrogate', 'surrogateKey'), at: fc.nat() }),
  fc.record({ op: fc.constant('set'), at: fc.nat(), value: hostileJson }),
  fc.record({ op: fc.constant('set'), at: fc.nat(), value: fc.constantFrom('', 0, null, []) }),
  fc.record({ op: fc.constant('huge'), at: fc.nat(), size: fc.integer({ min: 1, max: 200_000 }) }),
  fc.record({ op: fc.constant('nest'), at: fc.nat(), depth: fc.integer({ min: 2, max: 20_000 }) }),
)

type TextMutation =
  | { op: 'none' }
  | { op: 'cut'; at: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'replace'; text: string }

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ op: 'none' as const }) },
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: hostileString }),
  fc.record({
    op: fc.constant('replace' as const),
    text: fc.oneof(
      hostileString,
      fc.constantFrom('null', '[]', '{}', '{"alerts":{}}', '{"alerts":[1,"x",null]}', '"alerts"'),
      fc.constant(deepJson(100_000)),
      fc.constant(deepJson(50_000, 'object')),
    ),
  }),
)

/** Applies the mutations; deep nesting goes in as text (JSON.stringify would recurse). */
function mutate(base: unknown, muts: Mutation[], text: TextMutation): string {
  const v = structuredClone(base)
  const deep: string[] = []
  for (const m of muts) {
    const all = pathsOf(v)
    // Every other mutation goes to a label or annotation: what templates and links are built from.
    const inAlert = all.filter((p) => p.includes('labels') || p.includes('annotations'))
    const paths = m.at % 2 === 0 && inAlert.length > 0 ? inAlert : all
    if (paths.length === 0) break
    const path = paths[Math.floor(m.at / 2) % paths.length] as Path
    const key = path[path.length - 1] as string | number
    let parent = v as Record<string | number, unknown>
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>
    const cur = parent[key]
    if (m.op === 'drop') {
      if (Array.isArray(parent)) parent.splice(key as number, 1)
      else delete parent[key]
    } else if (m.op === 'surrogate') {
      parent[key] = `${typeof cur === 'string' ? cur : String(cur)}\uD800`
    } else if (m.op === 'surrogateKey' && !Array.isArray(parent)) {
      delete parent[key]
      parent[`${key}\uDC01`] = cur
    } else if (m.op === 'set') parent[key] = m.value
    else if (m.op === 'huge') parent[key] = '界'.repeat(Math.ceil(m.size / 3))
    else if (m.op === 'nest') {
      parent[key] = `__deep_${deep.length}__`
      deep.push(deepJson(m.depth, m.depth % 2 ? 'array' : 'object'))
    }
  }
  let body = JSON.stringify(v)
  deep.forEach((d, i) => {
    body = body.replace(`"__deep_${i}__"`, d)
  })
  if (text.op === 'cut') body = body.slice(0, text.at % (body.length + 1))
  if (text.op === 'insert') {
    const at = text.at % (body.length + 1)
    body = body.slice(0, at) + text.text + body.slice(at)
  }
  if (text.op === 'replace') body = text.text
  return body
}

async function post(body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${relay.url}${HOOK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  })
  const text = await res.text()
  return { status: res.status, json: JSON.parse(text) as Record<string, unknown> }
}

/** A valid payload no earlier one can be a duplicate of. */
let fresh = 0
function freshValid(): string {
  const v = JSON.parse(localPayload('am025-firing-3-alerts.json')) as {
    groupKey: string
    alerts: { labels: Record<string, string> }[]
  }
  fresh += 1
  v.groupKey = `fuzz-fresh-${fresh}`
  for (const a of v.alerts) a.labels.fuzz_run = String(fresh)
  return JSON.stringify(v)
}

test('mutated Alertmanager payloads: 2xx or 4xx (never 5xx), bounded labels, a valid one still delivered', async () => {
  const loop = watchEventLoop()
  let slowestMs = 0
  const seen = new Map<number, number>()
  try {
    await fuzz(
      'relay payloads',
      fc.asyncProperty(
        fc.constantFrom(...bases),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        textMutation,
        async (base, muts, text) => {
          clock.advance(301_000) // past the dedupe window and the robots' rate-limit windows
          const body = mutate(base.value, muts, text)
          const started = performance.now()
          const { status, json } = await post(body)
          slowestMs = Math.max(slowestMs, performance.now() - started)
          seen.set(status, (seen.get(status) ?? 0) + 1)
          assert.ok(status >= 200 && status < 500, `HTTP ${status}: ${JSON.stringify(json)}`)
          if (status === 200) {
            const channels = json.channels as Record<string, string>
            assert.deepEqual(Object.keys(channels).sort(), [...CHANNELS].sort())
            for (const s of Object.values(channels)) assert.ok(STATUSES.has(s), s)
          } else {
            const error = json.error as { code: string; message: string }
            assert.match(error.code, /^(RELAY_PAYLOAD_INVALID|USAGE)$/)
            assert.ok(error.message.length > 0)
          }
        },
      ),
      60,
    )
  } finally {
    loop.stop()
  }
  // Both kinds of answer happened: the mutations reach the renderer and the parser.
  assert.ok((seen.get(200) ?? 0) > 0 && (seen.get(400) ?? 0) > 0, JSON.stringify([...seen]))
  assert.ok(loop.maxGapMs() < 2000, `event loop blocked ${loop.maxGapMs().toFixed(0)} ms`)
  assert.ok(slowestMs < 10_000, `slowest answer ${slowestMs.toFixed(0)} ms`)
  // The hook's guard answers 200 for a notification that cannot be rendered; for these bodies
  // rendering must not fail at all.
  const bugs = logLines.filter(
    (l) => l.includes('internal error') || l.includes('cannot be rendered'),
  )
  assert.deepEqual(bugs.slice(0, 3), [])

  clock.advance(60_000)
  const before = fakes.map((f) => f.accepted.length)
  const ok = await post(freshValid())
  assert.equal(ok.status, 200, JSON.stringify(ok.json))
  assert.deepEqual(ok.json.channels, Object.fromEntries(CHANNELS.map((c) => [c, 'delivered'])))
  fakes.forEach((f, i) => {
    assert.ok(f.accepted.length > (before[i] as number), `fake ${i}`)
  })

  // Label values stay within the configured channels and the known statuses.
  const metrics = await (await fetch(`${relay.url}/metrics`)).text()
  for (const m of metrics.matchAll(/^inferwatch_relay_\w+\{([^}]*)\}/gm)) {
    const labels = Object.fromEntries(
      [...(m[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]),
    )
    if (labels.channel !== undefined) assert.ok(CHANNELS.includes(labels.channel as never), m[0])
    if (labels.status !== undefined) assert.ok(STATUSES.has(labels.status), m[0])
  }
})

test('regression: a label value with a lone surrogate is delivered, with a well-formed silence link', async () => {
  clock.advance(60_000)
  const v = JSON.parse(freshValid()) as { alerts: { labels: Record<string, string> }[] }
  ;(v.alerts[0] as { labels: Record<string, string> }).labels.instance = 'vllm-0\uD800:8000'
  const { status, json } = await post(JSON.stringify(v))
  assert.equal(status, 200, JSON.stringify(json))
  assert.deepEqual(json.channels, Object.fromEntries(CHANNELS.map((c) => [c, 'delivered'])))
  assert.match(stdout, /silences\/new\?filter=[^)\s]*vllm-0%EF%BF%BD%3A8000/)
})

test('regression: alerts that are not objects are dropped and named; the rest is delivered', async () => {
  clock.advance(60_000)
  const v = JSON.parse(freshValid()) as { alerts: unknown[] }
  v.alerts.splice(1, 0, 'not an alert', null)
  const { status, json } = await post(JSON.stringify(v))
  assert.equal(status, 200, JSON.stringify(json))
  assert.deepEqual(json.dropped, ['alerts[1] is not an object', 'alerts[2] is not an object'])
  assert.deepEqual(json.channels, Object.fromEntries(CHANNELS.map((c) => [c, 'delivered'])))
  assert.match(stdout, /2 more alert\(s\) could not be read|另有 2 条告警无法读取/)
  assert.ok(logLines.some((l) => l.includes('cannot be read') && l.includes('alerts[1]')))

  const none = await post('{"alerts":[1,"x"]}')
  assert.equal(none.status, 400)
  assert.match(
    (none.json.error as { message: string }).message,
    /no readable alert \(alerts\[0\] is not an object\)/,
  )
})

test('regression: a 270 KB annotation is delivered in well under a second of event-loop time', async () => {
  clock.advance(301_000)
  const v = JSON.parse(freshValid()) as { alerts: { annotations: Record<string, string> }[] }
  ;(v.alerts[0] as { annotations: Record<string, string> }).annotations.description = '界'.repeat(
    90_000,
  )
  const loop = watchEventLoop()
  const started = performance.now()
  const { status, json } = await post(JSON.stringify(v))
  const ms = performance.now() - started
  loop.stop()
  assert.equal(status, 200, JSON.stringify(json))
  assert.deepEqual(json.channels, Object.fromEntries(CHANNELS.map((c) => [c, 'delivered'])))
  // Segmenting the whole text at once took 20 to 60 s per channel here (quadratic).
  assert.ok(ms < 5000, `answered after ${ms.toFixed(0)} ms`)
  assert.ok(loop.maxGapMs() < 1500, `event loop blocked ${loop.maxGapMs().toFixed(0)} ms`)
})

test('graphemes in windows are the clusters Intl.Segmenter finds in the whole string', async () => {
  const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' })
  const piece = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 8 }),
    fc.constantFrom('👩‍👩‍👧‍👦', 'e\u0301\u0302', '🇨🇳', '\r\n', '\uD800', '\uDC00', '界', 'a'),
  )
  await fuzz(
    'graphemes',
    fc.property(fc.array(piece, { maxLength: 400 }), fc.nat(), (parts, limit) => {
      const s = parts.join('')
      const whole = Array.from(segmenter.segment(s), (x) => x.segment)
      assert.deepEqual(graphemes(s), whole)
      const n = limit % (whole.length + 2)
      assert.deepEqual(graphemes(s, n), whole.slice(0, n))
    }),
    100,
  )
})
