// Per-client attribution through the meter's seam: which value names the client, aliases, the
// maxClients bound, and the counters each exchange adds (README: Metrics, "Who sends what").
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, test } from 'node:test'
import { chat, chatBody, drive, newMeter, openChat, ROLE, sse } from '../testing/meter-drive.js'
import { gaugeValue, labelSets } from '../testing/registry-values.js'
import { createTokenCounter } from '../tokens/index.js'
import { bearerClientId, createClientNamer } from './_attribution.js'
import type { AttributionOptions } from './index.js'

const shared = createTokenCounter()
after(() => shared.close())

const USAGE = sse({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 3 } })
const streamed = (endAtMs = 1100): [number, string][] => [
  [1001, ROLE],
  [1050, chat(' a')],
  [endAtMs, USAGE],
  [endAtMs, 'data: [DONE]\n\n'],
]

async function send(
  attribution: AttributionOptions | undefined,
  exchanges: { headers?: Record<string, string>; user?: string; status?: number }[],
) {
  const { registry, meter } = newMeter(shared, attribution ? { attribution } : {})
  for (const x of exchanges)
    await drive(meter, {
      body: chatBody('Hi', x.user === undefined ? {} : { user: x.user }),
      ...(x.headers ? { requestHeaders: x.headers } : {}),
      ...(x.status ? { status: x.status, contentType: 'application/json' } : {}),
      chunks: x.status ? [[1010, '{"error":"no"}']] : streamed(),
      endAtMs: 1100,
    })
  const clients = (await labelSets(registry, 'inferwatch_client_requests_total'))
    .map((l) => l.client as string)
    .sort()
  return { registry, clients }
}

test('client: the configured header, else the body user field, else a bearer-key hash, else anonymous', async () => {
  const token = 'sk-live-7f3a9b2c4d5e6f708192a3b4c5d6e7f8'
  const { registry, clients } = await send({ header: 'x-app-name' }, [
    { headers: { 'x-app-name': 'search-ui' }, user: 'alice' },
    { user: 'alice' },
    { user: '   ', headers: { authorization: `Bearer ${token}` } },
    { headers: { authorization: 'Basic dXNlcjpwYXNz' } },
    {},
  ])
  const hash = `key-${createHash('sha256').update(token).digest('hex').slice(0, 8)}`
  assert.equal(bearerClientId(token), hash)
  assert.deepEqual(clients, ['alice', 'anonymous', hash, 'search-ui'].sort())
  // Basic auth and no credentials at all are both anonymous: two requests.
  assert.equal(
    await gaugeValue(registry, 'inferwatch_client_requests_total', { client: 'anonymous' }),
    2,
  )
  // No header configured: the header is ignored and the user field names the client.
  const plain = await send(undefined, [{ headers: { 'x-app-name': 'search-ui' }, user: 'bob' }])
  assert.deepEqual(plain.clients, ['bob'])
})

test('aliases name raw values (hashes included); maxClients bounds the rest to other', async () => {
  const token = 'team-a-secret-token-0123456789'
  const { registry, clients } = await send(
    { aliases: { [bearerClientId(token)]: 'team-a', u1: 'frontend' }, maxClients: 2 },
    [
      { headers: { authorization: `bearer ${token}` } },
      { user: 'u1' },
      { user: 'c1' },
      { user: 'c2' },
      { user: 'c3' },
      { user: 'c1' },
      { user: 'c4' },
      {},
    ],
  )
  // Aliased names are always kept; of the others, the first two distinct values are.
  assert.deepEqual(clients, ['anonymous', 'c1', 'c2', 'frontend', 'other', 'team-a'])
  const n = (client: string) => gaugeValue(registry, 'inferwatch_client_requests_total', { client })
  assert.deepEqual(
    [await n('c1'), await n('c2'), await n('other'), await n('team-a')],
    [2, 1, 2, 1],
  )
})

test('1,000 distinct users stay within maxClients + other; long values are cut to 64 characters', () => {
  const namer = createClientNamer({ maxClients: 20 })
  const seen = new Set<string>()
  for (let i = 0; i < 1000; i++) seen.add(namer.clientOf({}, `user-${i}-${'x'.repeat(i % 90)}`))
  assert.equal(seen.size, 21)
  assert.ok(seen.has('other'))
  for (const c of seen) assert.ok(c.length <= 64, c)
  // Header values as node may hand them (an array for a repeated header): the first one.
  const h = createClientNamer({ header: 'x-app-name' })
  assert.equal(h.clientOf({ 'x-app-name': ['one', 'two'] as unknown as string }, undefined), 'one')
})

test('requests by context class and error type; tokens of successes by type', async () => {
  const { registry } = await send(undefined, [
    { user: 'batch' },
    { user: 'batch' },
    { user: 'batch', status: 503 },
  ])
  const v = (name: string, labels: Record<string, string>) => gaugeValue(registry, name, labels)
  assert.equal(
    await v('inferwatch_client_requests_total', {
      client: 'batch',
      context_class: 'short',
      error_type: '',
    }),
    2,
  )
  assert.equal(
    await v('inferwatch_client_requests_total', { client: 'batch', error_type: '503' }),
    1,
  )
  assert.equal(
    await v('inferwatch_client_tokens_total', { client: 'batch', gen_ai_token_type: 'input' }),
    24,
  )
  assert.equal(
    await v('inferwatch_client_tokens_total', { client: 'batch', gen_ai_token_type: 'output' }),
    6,
  )
})

test('naming a client costs microseconds (bearer hash included) and happens only at the end', async () => {
  const namer = createClientNamer({ maxClients: 20 })
  const headers = { authorization: 'Bearer sk-0123456789abcdef0123456789abcdef' }
  const n = 20_000
  const t0 = performance.now()
  for (let i = 0; i < n; i++) namer.clientOf(headers, undefined)
  const perCallUs = ((performance.now() - t0) * 1000) / n
  // Measured ~2 µs on a 2-core CI machine; the bound leaves room for a busy one.
  assert.ok(perCallUs < 50, `${perCallUs.toFixed(2)} µs per call`)

  // Through the seam: after every request and response chunk but before end(), no client series.
  const { registry, meter } = newMeter(shared)
  const obs = openChat(meter, chatBody('Hi', { user: 'late' }))
  obs.responseHead(200, { 'content-type': 'text/event-stream' }, 1001)
  for (const [at, data] of streamed()) obs.responseChunk(Buffer.from(data), at)
  assert.deepEqual(await labelSets(registry, 'inferwatch_client_requests_total'), [])
  obs.end({ errorType: '', atMs: 1100 })
  await meter.settled()
  assert.deepEqual(
    (await labelSets(registry, 'inferwatch_client_requests_total')).map((l) => l.client),
    ['late'],
  )
})
