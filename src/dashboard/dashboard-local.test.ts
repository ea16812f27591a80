import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseConfig } from '../config/index.js'
import { startProxyService } from '../server/index.js'
import { sendDemoTraffic, startScriptedEngine } from '../sim/index.js'
import { artifactDir, chromiumSkip, launchChromium, watchPage } from '../testing/chromium.js'
import { closedPortUrl } from '../testing/index.js'

// `inferwatch proxy` with no Prometheus: the page shows the process's own metrics, marked as
// in-memory, and the admin token guards the page and its API (login form -> session cookie).

const TOKEN = 'dash-s3cret-token'

test('no Prometheus: marked live values from memory; the admin token guards page and API', {
  skip: chromiumSkip(),
}, async (t) => {
  const engine = await startScriptedEngine({ firstTokenMs: 5, interTokenMs: 1, promptTokens: 20 })
  t.after(() => engine.close())
  const config = parseConfig({
    upstream: engine.url,
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    adminToken: TOKEN,
    gpu: { enabled: false },
    contextClasses: { mediumFromTokens: 1000, longFromTokens: 3000 },
    prometheus: { url: await closedPortUrl() },
    relay: { language: 'en' },
    dashboard: { localSampleIntervalMs: 200 },
  })
  const service = await startProxyService(config)
  t.after(() => service.close())
  const admin = service.adminUrl
  const traffic = await sendDemoTraffic(service.proxyUrl, 'qwen3-4b-instruct-2507', {
    mediumTokens: 1500,
    longTokens: 3500,
  })
  assert.equal(traffic.statuses.filter((s) => s === 200).length, 8)
  await service.settled(30_000)

  // Without a credential: the login page, and 401 on the API.
  const page401 = await fetch(`${admin}/`)
  assert.equal(page401.status, 401)
  assert.match(await page401.text(), /<form method="post" action="\/login">/)
  assert.equal((await fetch(`${admin}/api/dashboard`)).status, 401)
  assert.equal((await fetch(`${admin}/api/v1/query?query=llm:requests:rate1m`)).status, 401)
  const bearer = { authorization: `Bearer ${TOKEN}` }
  const spec = await fetch(`${admin}/api/dashboard`, { headers: bearer })
  assert.equal(spec.status, 200)
  assert.equal(spec.headers.get('x-inferwatch-source'), 'local')

  // Numbers from memory agree with the registry: 8 successes, none a server error.
  await new Promise((r) => setTimeout(r, 500))
  const q = async (expr: string) => {
    const res = await fetch(`${admin}/api/v1/query?${new URLSearchParams({ query: expr })}`, {
      headers: bearer,
    })
    assert.equal(res.status, 200)
    const body = (await res.json()) as { data: { result: { value: [number, string] }[] } }
    return body.data.result.map((r) => Number(r.value[1]))
  }
  const [rate] = await q('llm:requests:rate1m')
  assert.ok(rate !== undefined && rate > 0, `requests/s from memory: ${rate}`)
  assert.deepEqual(await q('llm:request_errors:ratio_rate5m'), [0])
  assert.deepEqual(await q('llm:kv_cache_usage:ratio'), [], 'engine series are not in memory')

  const browser = await launchChromium()
  t.after(() => browser.close())
  const context = await browser.newContext({ locale: 'en-US' })
  const page = await context.newPage()
  const problems = watchPage(page)
  // A wrong token: the login page says so. The right one: a session cookie, then the page.
  await page.goto(`${admin}/?token=wrong`)
  assert.equal(await page.locator('.wrong').count(), 1)
  await page.fill('#token', TOKEN)
  await Promise.all([page.waitForURL(`${admin}/`), page.click('button[type=submit]')])
  await page.waitForSelector('body[data-loaded="true"]')
  const [cookie] = await context.cookies()
  assert.equal(cookie?.httpOnly, true)
  assert.equal(cookie?.sameSite, 'Strict')
  assert.notEqual(cookie?.value, TOKEN, 'the cookie must not hold the token itself')
  assert.doesNotMatch(String(await page.evaluate('document.cookie')), /inferwatch_session/)
  // The wrong token got a 401 (Chromium logs it); from here on nothing may fail.
  assert.equal(problems.list.length, 1, problems.list.join('\n'))
  problems.list.length = 0
  await page.reload()
  await page.waitForSelector('body[data-loaded="true"]')
  // The session opens the dashboard only: /metrics still wants the bearer token.
  const cookieHeader = { cookie: `${cookie?.name}=${cookie?.value}` }
  assert.equal((await fetch(`${admin}/api/dashboard`, { headers: cookieHeader })).status, 200)
  assert.equal((await fetch(`${admin}/metrics`, { headers: cookieHeader })).status, 401)

  const source = page.locator('#source')
  assert.equal(await source.getAttribute('data-source'), 'local')
  assert.match((await source.textContent()) ?? '', /in-memory.*Live values from this process only/)
  const tile = (key: string) => page.locator(`#tile-${key} .value`).textContent()
  assert.match((await tile('requests')) ?? '', /^\d+(\.\d+)?$/)
  assert.ok(Number(await tile('requests')) > 0)
  assert.match((await tile('latency')) ?? '', /^\d+(\.\d+)? (ms|s)$/)
  assert.equal(await tile('errors'), '0%')
  assert.equal(await page.locator('#tile-kv_cache .note').textContent(), 'needs Prometheus')
  assert.match((await page.locator('#alert-list').textContent()) ?? '', /not available/)
  // Charts drew from memory: the request-rate panel has a canvas and a legend entry.
  assert.equal((await page.locator('#chart-traffic canvas').count()) > 0, true)
  const shots = artifactDir('dashboard')
  await page.screenshot({ path: join(shots, 'local-fallback.png'), fullPage: true })
  console.log(`dashboard screenshots: ${shots}`)
  assert.deepEqual(problems.list, [])
})
