// The footprint of `inferwatch up`: CPU and RSS of the inferwatch process (proxy, admin, GPU
// collector, relay), Prometheus and Alertmanager, at idle and under load, read from
// /proc/<pid>/stat (utime + stime) and /proc/<pid>/status (VmRSS). The engine is `inferwatch
// sim` in a process of its own, so its work is not counted as inferwatch's.
//
//   npm run bench:stack                      (or node dist-bench/benchmarks/stack/footprint.js)
//   node dist-bench/benchmarks/stack/footprint.js --idle 30 --load 60 --rate 20 --streams 16 --long 1
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    idle: { type: 'string', default: '20' },
    load: { type: 'string', default: '30' },
    rate: { type: 'string', default: '10' },
    streams: { type: 'string', default: '16' },
    long: { type: 'string', default: '1' },
  },
})
const IDLE_S = Number(values.idle)
const LOAD_S = Number(values.load)
const RATE = Number(values.rate)
const STREAMS = Number(values.streams)
/** Lanes sending 104,000-token prompts one after another (the demo's long-context burst). */
const LONG = Number(values.long)
const BIN = fileURLToPath(new URL('../../../dist/cli/bin.js', import.meta.url))
const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
const MODEL = 'qwen3-4b-instruct-2507'

function run(args: string[]): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString()
  })
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString()
  })
  return { child, out: () => out }
}

async function waitFor(what: string, test: () => string | undefined, ms = 90_000) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const v = test()
    if (v) return v
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const cpuTicks = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(f[11]) + Number(f[12])
}
const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024

interface Figure {
  cpuPct: number
  rssAvg: number
  rssMax: number
}

async function measure(pids: Record<string, number>, seconds: number) {
  const start = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuTicks(p)]))
  const rss: Record<string, number[]> = Object.fromEntries(Object.keys(pids).map((k) => [k, []]))
  const t0 = performance.now()
  while (performance.now() - t0 < seconds * 1000) {
    for (const [k, p] of Object.entries(pids)) rss[k]?.push(rssMiB(p))
    await new Promise((r) => setTimeout(r, 500))
  }
  const wall = (performance.now() - t0) / 1000
  const out: Record<string, Figure> = {}
  for (const [k, p] of Object.entries(pids)) {
    const r = rss[k] ?? [0]
    out[k] = {
      cpuPct: ((cpuTicks(p) - (start[k] ?? 0)) / TICK / wall) * 100,
      rssAvg: r.reduce((a, b) => a + b, 0) / r.length,
      rssMax: Math.max(...r),
    }
  }
  return out
}

async function chat(proxy: string, promptWords: number, maxTokens: number, signal: AbortSignal) {
  try {
    const res = await fetch(`${proxy}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        messages: [{ role: 'user', content: `${Math.random()}${' hello'.repeat(promptWords)}` }],
        max_tokens: maxTokens,
        stream: true,
        stream_options: { include_usage: true },
      }),
      signal,
    })
    await res.arrayBuffer()
  } catch {}
}

const dir = mkdtempSync(join(tmpdir(), 'iw-footprint-'))
const sim = run(['sim', '--listen', '127.0.0.1:0', '--gpu', 'l40s', '--speed', '10'])
let up: ReturnType<typeof run> | undefined
try {
  const simUrl = await waitFor(
    'the simulator',
    () => /listening on (http:\/\/\S+)/.exec(sim.out())?.[1],
  )
  up = run([
    'up',
    '--upstream',
    simUrl,
    '--data-dir',
    dir,
    '--listen',
    '127.0.0.1:0',
    '--admin',
    '127.0.0.1:0',
    '--prometheus-listen',
    '127.0.0.1:0',
    '--alertmanager-listen',
    '127.0.0.1:0',
  ])
  const u = up
  await waitFor('up ready', () => (/every Prometheus target/.test(u.out()) ? 'ok' : undefined))
  const proxy = /^ {2}proxy +(http:\/\/\S+)/m.exec(u.out())?.[1] ?? ''
  const pidOf = (name: string) =>
    (JSON.parse(readFileSync(join(dir, `${name}.pid`), 'utf8')) as { pid: number }).pid
  const pids = {
    inferwatch: u.child.pid ?? 0,
    prometheus: pidOf('prometheus'),
    alertmanager: pidOf('alertmanager'),
    'engine (sim, not ours)': sim.child.pid ?? 0,
  }
  process.stderr.write(`idle for ${IDLE_S} s…\n`)
  const idle = await measure(pids, IDLE_S)
  process.stderr.write(
    `load for ${LOAD_S} s: ${RATE} short chats/s, ${STREAMS} concurrent 4,000-token streams, ${LONG} lane(s) of 104,000-token prompts…\n`,
  )
  const stop = new AbortController()
  const ticker = setInterval(() => void chat(proxy, 200, 32, stop.signal), 1000 / RATE)
  const lanes = [
    ...Array.from({ length: STREAMS }, async () => {
      while (!stop.signal.aborted) await chat(proxy, 4000, 256, stop.signal)
    }),
    ...Array.from({ length: LONG }, async () => {
      while (!stop.signal.aborted) await chat(proxy, 104_000, 16, stop.signal)
    }),
  ]
  const load = await measure(pids, LOAD_S)
  clearInterval(ticker)
  stop.abort()
  await Promise.all(lanes)
  const rows = Object.keys(pids).map((k) => {
    const i = idle[k] as Figure
    const l = load[k] as Figure
    return [k, i.cpuPct.toFixed(1), i.rssAvg.toFixed(0), l.cpuPct.toFixed(1), l.rssMax.toFixed(0)]
  })
  const head = ['process', 'idle CPU %', 'idle RSS MiB', 'load CPU %', 'load RSS MiB (max)']
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i] ?? 0)).join(' | ')} |`
  console.log(
    [
      line(head),
      line(w.map((n) => '-'.repeat(n))),
      ...rows.map(line),
      '',
      `CPU % of one core; load = ${RATE} chats/s + ${STREAMS} concurrent 4,000-token streams + ${LONG} lane(s) of 104,000-token prompts through the proxy for ${LOAD_S} s; idle ${IDLE_S} s; Prometheus scrapes every 15 s (engine 5 s)`,
    ].join('\n'),
  )
} finally {
  up?.child.kill('SIGTERM')
  await new Promise((r) => (up ? up.child.once('exit', r) : r(undefined)))
  sim.child.kill('SIGTERM')
  rmSync(dir, { recursive: true, force: true })
}
