// Attribution end to end: client -> `inferwatch proxy` (the server, its config parsed as a user's
// inferwatch.yaml would be) -> the engine simulator. The client label comes from the configured
// header, the body's user field (also in a body large enough to be parsed in the token worker) and
// a bearer key's hash; the key itself appears nowhere: not in /metrics, not in the log.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createLogger } from '../shared/index.js'
import { promptOfTokens, startSimulator } from '../sim/index.js'
import { startTestProxyService } from '../testing/proxy-service.js'
import { bearerClientId } from './index.js'

const MODEL = 'qwen3-4b-instruct-2507'
const TOKEN = 'sk-proj-Zq8vN2mL5kR7tW1xY4bC6dF9gH3jK0pQ'

async function stack(t: { after(fn: () => Promise<void>): void }, attribution?: object) {
  const sim = await startSimulator({
    engine: 'vllm',
    model: MODEL,
    gpu: 'l40s',
    gpuMemoryUtilization: 0.85,
    speed: 50,
    host: '127.0.0.1',
    port: 0,
  })
  t.after(() => sim.close())
  const logs: string[] = []
  const service = await startTestProxyService(t, sim.url, attribution ? { attribution } : {}, {
    logger: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
  })
  await service.refresh()
  const post = async (body: object, headers: Record<string, string> = {}) => {
    const res = await fetch(`${service.proxyUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: MODEL, max_tokens: 4, ...body }),
    })
    assert.equal(res.status, 200, await res.clone().text())
    await res.arrayBuffer()
  }
  const metrics = async () => {
    await service.settled()
    return (await fetch(`${service.adminUrl}/metrics`)).text()
  }
  return { post, metrics, logs }
}

const ask = (content: string) => ({ messages: [{ role: 'user', content }] })

test('header, user field (inline and in the worker), bearer hash and aliases name the client; the key is never shown', async (t) => {
  const s = await stack(t, { header: 'X-App-Name', aliases: { 'u-42': 'mobile-app' } })
  await s.post(ask('hi'), { 'x-app-name': 'search-ui', authorization: `Bearer ${TOKEN}` })
  await s.post({ ...ask('hi'), user: 'u-42' }, { authorization: `Bearer ${TOKEN}` })
  await s.post(ask('hi'), { authorization: `Bearer ${TOKEN}` })
  // ~40K tokens: a body over 64 KiB, parsed and counted in the token worker (medium class).
  await s.post({ ...ask(promptOfTokens(40_000)), user: 'batch-summarizer', stream: true })
  const text = await s.metrics()
  const key = bearerClientId(TOKEN)
  const line = (client: string, cls: string) =>
    new RegExp(
      `^inferwatch_client_requests_total\\{client="${client}",context_class="${cls}",error_type=""\\} 1$`,
      'm',
    )
  assert.match(text, line('search-ui', 'short'))
  assert.match(text, line('mobile-app', 'short'))
  assert.match(text, line(key, 'short'))
  assert.match(text, line('batch-summarizer', 'medium'))
  const input =
    /^inferwatch_client_tokens_total\{client="batch-summarizer",gen_ai_token_type="input"\} (\d+)$/m.exec(
      text,
    )
  assert.ok(input && Number(input[1]) >= 40_000, `input tokens of batch-summarizer: ${input?.[1]}`)
  for (const where of [text, s.logs.join('')]) {
    assert.ok(!where.includes(TOKEN), 'the bearer token appears')
    assert.ok(!where.includes(TOKEN.slice(3, 15)), 'part of the bearer token appears')
  }
  assert.ok(s.logs.length > 0, 'the debug log was captured')
})

test('default config: the demo burst (user field and x-app-name) is client="batch-summarizer"', async (t) => {
  const s = await stack(t)
  await s.post(
    { ...ask('summarize this'), user: 'batch-summarizer' },
    { 'x-app-name': 'batch-summarizer' },
  )
  await s.post(ask('hello'), { 'x-app-name': 'ignored-without-config' })
  const text = await s.metrics()
  assert.match(text, /^inferwatch_client_requests_total\{client="batch-summarizer",/m)
  assert.match(text, /^inferwatch_client_requests_total\{client="anonymous",/m)
  assert.doesNotMatch(text, /ignored-without-config/)
})
