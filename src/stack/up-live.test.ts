import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startSimulator } from '../sim/index.js'
import { findBinary } from '../testing/index.js'
import { processStartTicks, readPidFile } from './index.js'

// `inferwatch up` as a real child process (`node dist/cli/bin.js up`), with the real Debian
// Prometheus and Alertmanager it starts: the demo's long-context burst fires
// LLMLongContextOverload into the file sink; a SIGKILLed Prometheus comes back with its data; a
// config edit reloads in place; SIGTERM, SIGINT and SIGKILL of `up` leave no child; a stale child
// from a killed `up` is stopped by the next one.

const skip =
  findBinary('prometheus') && findBinary('prometheus-alertmanager')
    ? false
    : 'needs prometheus and prometheus-alertmanager (make test installs them)'
const BIN = fileURLToPath(new URL('../cli/bin.js', import.meta.url))
const FREE = [
  '--listen',
  '127.0.0.1:0',
  '--admin',
  '127.0.0.1:0',
  '--prometheus-listen',
  '127.0.0.1:0',
  '--alertmanager-listen',
  '127.0.0.1:0',
]

interface Up {
  child: ChildProcess
  out: () => string
  exited: Promise<number | null>
}

function startUp(args: string[]): Up {
  const child = spawn(process.execPath, [BIN, 'up', ...args, ...FREE], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString()
  })
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString()
  })
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  return { child, out: () => out, exited }
}

async function until<T>(
  what: string,
  f: () => T | undefined | Promise<T | undefined>,
  ms: number,
  up?: Up,
) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const v = await f()
    if (v !== undefined && v !== false) return v
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`timed out waiting for ${what}${up ? `; up printed:\n${up.out()}` : ''}`)
}

const url = (up: Up, row: string) =>
  new RegExp(`^  ${row} +(http://\\S+)`, 'm').exec(up.out())?.[1]?.replace(/\/metrics$/, '')
const alive = (pid: number | undefined) => pid !== undefined && processStartTicks(pid) !== undefined
const childPid = (dir: string, name: string) => readPidFile(join(dir, `${name}.pid`))?.pid

/** Processes whose command line mentions `text` (watchdogs name their child's pid). */
function processesWith(text: string): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ')
      if (cmd.includes(text) && alive(Number(entry))) found.push(Number(entry))
    } catch {}
  }
  return found
}

async function ready(up: Up): Promise<{ proxy: string; admin: string; prom: string }> {
  await until('every target up', () => /every Prometheus target is up/.test(up.out()), 60_000, up)
  return {
    proxy: url(up, 'proxy') ?? '',
    admin: url(up, 'metrics') ?? '',
    prom: url(up, 'Prometheus') ?? '',
  }
}

async function promQuery(prom: string, q: string, time?: number) {
  const res = await fetch(
    `${prom}/api/v1/query?query=${encodeURIComponent(q)}${time ? `&time=${time}` : ''}`,
  )
  const body = (await res.json()) as { data: { result: { value: [number, string] }[] } }
  return body.data.result
}

test('inferwatch up: demo burst fires into the file sink, children restart, reload, stop cleanly', {
  skip,
  timeout: 240_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iw-up-live-'))
  const config = join(dir, 'inferwatch.yaml')
  writeFileSync(config, 'alerts:\n  profile: test\n  language: en\n')
  const data = join(dir, 'data')
  const started: Up[] = []
  t.after(() => {
    for (const u of started) u.child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  const args = ['--config', config, '--data-dir', data]

  // 1. The stack on free ports; the simulator answers through the proxy; every target is up.
  const up = startUp([...args, '--demo', '--phases', 'burst', '--speed', '20'])
  started.push(up)
  const { proxy, prom } = await ready(up)
  assert.match(
    up.out(),
    /watching vLLM 0\.12\.0 at .*qwen3-4b-instruct-2507 \(max_model_len 131072\)/,
  )
  const models = (await (await fetch(`${proxy}/v1/models`)).json()) as { data: { id: string }[] }
  assert.equal(models.data[0]?.id, 'qwen3-4b-instruct-2507')
  const targets = (await (await fetch(`${prom}/api/v1/targets`)).json()) as {
    data: { activeTargets: { scrapePool: string; health: string }[] }
  }
  const pools = targets.data.activeTargets.map((x) => `${x.scrapePool}:${x.health}`).sort()
  for (const job of ['alertmanager', 'inferwatch', 'prometheus', 'vllm'])
    assert.ok(pools.includes(`${job}:up`), `${job} scraped: ${pools}`)
  assert.deepEqual(
    pools.filter((p) => !p.endsWith(':up')),
    [],
    'every target is up',
  )

  // 2. The burst (client batch-summarizer) fires LLMLongContextOverload into notifications.log.
  const sink = join(data, 'notifications.log')
  const line = await until(
    'a firing LLMLongContextOverload notification in the file sink',
    () =>
      existsSync(sink)
        ? readFileSync(sink, 'utf8')
            .split('\n')
            .find((l) => l.includes('"status":"firing"') && l.includes('LLMLongContextOverload'))
        : undefined,
    150_000,
    up,
  )
  assert.match(JSON.parse(line).text, /Long-context share of requests high/)
  assert.match(up.out(), /alert LLMLongContextOverload firing/)
  assert.match(up.out(), /client "batch-summarizer"/)

  // 3. A SIGKILLed Prometheus restarts with its data: a sample from before is still there.
  const before = Date.now() / 1000 - 2
  assert.ok((await promQuery(prom, 'up{job="inferwatch"}', before)).length > 0)
  const promPid = childPid(data, 'prometheus')
  assert.ok(alive(promPid), 'prometheus.pid names a live process')
  process.kill(promPid ?? 0, 'SIGKILL')
  await until('prometheus restarted', () => /prometheus is back at/.test(up.out()), 30_000, up)
  const newPid = childPid(data, 'prometheus')
  assert.ok(newPid !== promPid && alive(newPid), `new pid ${newPid}`)
  assert.match(
    up.out(),
    /prometheus stopped \(killed by SIGKILL\); restarting in 1 s with its data/,
  )
  const kept = await promQuery(prom, 'up{job="inferwatch"}', before)
  assert.equal(kept[0]?.value[1], '1', 'the series scraped before the kill is still queryable')

  // 4. A config edit re-renders the rules and reloads Prometheus in place (same pid).
  writeFileSync(
    config,
    'alerts:\n  profile: test\n  language: en\n  kvCacheHigh:\n    ratio: 0.5\n',
  )
  await until(
    'the KV-cache rule at 0.5',
    async () => {
      const res = await fetch(`${prom}/api/v1/rules?type=alert`)
      return (await res.text()).includes('llm:kv_cache_usage:ratio \\u003e 0.5') || undefined
    },
    20_000,
    up,
  )
  assert.equal(childPid(data, 'prometheus'), newPid, 'reloaded, not restarted')
  await until(
    'the reload reported',
    () => /changed: rules and alerting reloaded in place/.test(up.out()),
    20_000,
    up,
  )

  // 5. SIGTERM stops everything: exit 0, no child and no watchdog left.
  const amPid = childPid(data, 'alertmanager')
  up.child.kill('SIGTERM')
  assert.equal(await up.exited, 0, up.out())
  assert.ok(!alive(newPid) && !alive(amPid), 'children stopped')
  assert.deepEqual(processesWith('inferwatch-watchdog'), [])
  assert.ok(!existsSync(join(data, 'prometheus.pid')) && !existsSync(join(data, 'up.pid')))

  // 6. SIGKILL of `up` itself: the watchdogs stop both children.
  const killed = startUp([...args, '--demo', '--phases', 'steady', '--speed', '20'])
  started.push(killed)
  await ready(killed)
  const pids = [childPid(data, 'prometheus'), childPid(data, 'alertmanager')]
  assert.ok(pids.every(alive))
  killed.child.kill('SIGKILL')
  await killed.exited
  await until('no child after SIGKILL', () => !pids.some(alive) || undefined, 15_000)
  assert.ok(existsSync(join(data, 'up.pid')), 'a killed up leaves its pid file behind')

  // 7. A stale live child (as if its watchdog died too) is found and stopped by the next `up`.
  const stale = spawn(
    findBinary('prometheus') ?? 'prometheus',
    [
      `--config.file=${join(data, 'prometheus', 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(data, 'stale-tsdb')}`,
      '--web.listen-address=127.0.0.1:0',
    ],
    { stdio: 'ignore' },
  )
  const stalePid = stale.pid ?? 0
  await until('the stale prometheus running', () => alive(stalePid) || undefined, 5000)
  writeFileSync(
    join(data, 'prometheus.pid'),
    JSON.stringify({
      pid: stalePid,
      startTicks: processStartTicks(stalePid),
      marks: ['prometheus', data],
    }),
  )
  const next = startUp([...args, '--demo', '--phases', 'steady', '--speed', '20'])
  started.push(next)
  await ready(next)
  assert.match(
    next.out(),
    new RegExp(`stopped 1 stale child\\(ren\\) a killed inferwatch up left: pid ${stalePid}`),
  )
  assert.ok(!alive(stalePid))
  const last = [childPid(data, 'prometheus'), childPid(data, 'alertmanager')]
  next.child.kill('SIGINT')
  assert.equal(await next.exited, 0, next.out())
  assert.ok(!last.some(alive))
  assert.deepEqual(processesWith('inferwatch-watchdog'), [])
})

test('inferwatch up --upstream: the five-minute path follows the engine that answers (TGI here)', {
  skip,
  timeout: 120_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iw-up-upstream-'))
  const sim = await startSimulator({
    engine: 'tgi',
    model: 'qwen3-4b-instruct-2507',
    gpu: 'rtx-4090d',
    gpuMemoryUtilization: 0.9,
    host: '127.0.0.1',
    port: 0,
    speed: 50,
  })
  const up = startUp(['--upstream', sim.url, '--data-dir', join(dir, 'data')])
  t.after(async () => {
    up.child.kill('SIGKILL')
    await sim.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const { proxy, prom } = await ready(up)
  assert.match(up.out(), /answers as tgi \(the config says vllm\): the rules follow tgi/)
  const scrape = readFileSync(join(dir, 'data', 'prometheus', 'prometheus.yml'), 'utf8')
  assert.match(scrape, /job_name: tgi\n[\s\S]*?engine: tgi/, 'the engine is scraped as what it is')
  const targets = (await (await fetch(`${prom}/api/v1/targets`)).json()) as {
    data: { activeTargets: { scrapePool: string; health: string }[] }
  }
  const pools = targets.data.activeTargets.map((x) => `${x.scrapePool}:${x.health}`)
  assert.ok(pools.includes('tgi:up'), `the engine is scraped as tgi: ${pools}`)
  const res = await fetch(`${proxy}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: 'hello', parameters: { max_new_tokens: 4 } }),
  })
  assert.equal(res.status, 200)
  await res.text()
  up.child.kill('SIGINT')
  assert.equal(await up.exited, 0, up.out())
})
