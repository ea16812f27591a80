// The engine simulator's own speed: is it ever the bottleneck of a test or a demo? Runs the
// shipped `inferwatch sim` (dist/cli/bin.js) as a child process and drives it from this process
// with node:http keep-alive clients: (1) request throughput, closed loop, short non-streamed
// completions; (2) many concurrent streams, streamed chat with usage. Prints a table; --quick
// shortens the runs. Build with `npx tsc && npx tsc -p benchmarks`, run
// `node dist-bench/benchmarks/sim/sim-bench.js` (or `npm run bench:sim`).
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { createServer } from 'node:net'
import { cpus } from 'node:os'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const BIN = resolve(ROOT, 'dist/cli/bin.js')
const quick = process.argv.includes('--quick')
const TICK = 100 // clock ticks per second in /proc/<pid>/stat

interface Result {
  scenario: string
  requests: number
  errors: number
  seconds: number
  tokens: number
  p50Ms: number
  p99Ms: number
  simCpu: number
  clientCpu: number
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => res(typeof a === 'object' && a ? a.port : 0))
    })
  })
}

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(f[11]) + Number(f[12])) / TICK
}

async function startSim(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort()
  const child = spawn(process.execPath, [BIN, 'sim', '--listen', `127.0.0.1:${port}`, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((res, rej) => {
    let out = ''
    const timer = setTimeout(() => rej(new Error(`sim did not start: ${out}`)), 20_000)
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString()
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m?.[1]) {
        clearTimeout(timer)
        res(m[1])
      }
    })
    child.once('exit', (code) => rej(new Error(`sim exited ${code}: ${out}`)))
  })
  child.stdout?.resume()
  return { child, url }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const gone = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  await gone
}

function post(
  agent: Agent,
  url: string,
  path: string,
  body: string,
): Promise<{ status: number; bytes: string }> {
  return new Promise((res, rej) => {
    const u = new URL(path, url)
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (r) => {
        const chunks: Buffer[] = []
        r.on('data', (c: Buffer) => chunks.push(c))
        r.on('end', () =>
          res({ status: r.statusCode ?? 0, bytes: Buffer.concat(chunks).toString() }),
        )
        r.on('error', rej)
      },
    )
    req.on('error', rej)
    req.end(body)
  })
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0
}

async function throughput(concurrency: number, seconds: number): Promise<Result> {
  const { child, url } = await startSim([
    '--gpu',
    'h200',
    '--speed',
    '1000',
    '--max-num-seqs',
    '1024',
  ])
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const body = JSON.stringify({
    model: 'qwen3-4b-instruct-2507',
    prompt: 'Say something short about GPUs.',
    max_tokens: 16,
  })
  await post(agent, url, '/v1/completions', body) // counts the prompt once
  const lat: number[] = []
  let errors = 0
  let tokens = 0
  const pid = child.pid ?? 0
  const sim0 = cpuSeconds(pid)
  const me0 = process.cpuUsage()
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now()
        const r = await post(agent, url, '/v1/completions', body).catch(() => ({
          status: 0,
          bytes: '',
        }))
        lat.push(performance.now() - s)
        if (r.status !== 200) errors++
        else tokens += 16
      }
    }),
  )
  const dt = (performance.now() - t0) / 1000
  const me = process.cpuUsage(me0)
  const result: Result = {
    scenario: `throughput: ${concurrency} clients, non-streamed, 16 tokens, speed 1000`,
    requests: lat.length,
    errors,
    seconds: dt,
    tokens,
    p50Ms: pct(lat, 50),
    p99Ms: pct(lat, 99),
    simCpu: (cpuSeconds(pid) - sim0) / dt,
    clientCpu: (me.user + me.system) / 1e6 / dt,
  }
  agent.destroy()
  await stop(child)
  return result
}

async function streams(n: number, outputTokens: number, speed: number): Promise<Result> {
  const { child, url } = await startSim([
    '--gpu',
    'h200',
    '--speed',
    String(speed),
    '--max-num-seqs',
    '1024',
  ])
  const agent = new Agent({ keepAlive: true, maxSockets: n })
  const body = JSON.stringify({
    model: 'qwen3-4b-instruct-2507',
    messages: [{ role: 'user', content: 'Stream a long answer about KV caches.' }],
    max_tokens: outputTokens,
    stream: true,
    stream_options: { include_usage: true },
  })
  await post(agent, url, '/v1/chat/completions', body)
  const pid = child.pid ?? 0
  const sim0 = cpuSeconds(pid)
  const me0 = process.cpuUsage()
  const lat: number[] = []
  let errors = 0
  let tokens = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: n }, async () => {
      const s = performance.now()
      const r = await post(agent, url, '/v1/chat/completions', body).catch(() => ({
        status: 0,
        bytes: '',
      }))
      lat.push(performance.now() - s)
      const m = /"completion_tokens":(\d+)/.exec(r.bytes)
      if (r.status !== 200 || !r.bytes.endsWith('data: [DONE]\n\n') || !m) errors++
      else tokens += Number(m[1])
    }),
  )
  const dt = (performance.now() - t0) / 1000
  const me = process.cpuUsage(me0)
  const result: Result = {
    scenario: `streams: ${n} concurrent chat streams x ${outputTokens} tokens, speed ${speed}`,
    requests: lat.length,
    errors,
    seconds: dt,
    tokens,
    p50Ms: pct(lat, 50),
    p99Ms: pct(lat, 99),
    simCpu: (cpuSeconds(pid) - sim0) / dt,
    clientCpu: (me.user + me.system) / 1e6 / dt,
  }
  agent.destroy()
  await stop(child)
  return result
}

function render(rows: Result[]): string {
  const head = [
    'scenario',
    'requests',
    'errors',
    'req/s',
    'tokens/s',
    'p50 ms',
    'p99 ms',
    'sim CPU',
    'client CPU',
  ]
  const body = rows.map((r) => [
    r.scenario,
    String(r.requests),
    String(r.errors),
    (r.requests / r.seconds).toFixed(0),
    (r.tokens / r.seconds).toFixed(0),
    r.p50Ms.toFixed(1),
    r.p99Ms.toFixed(1),
    `${(r.simCpu * 100).toFixed(0)} %`,
    `${(r.clientCpu * 100).toFixed(0)} %`,
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}

const rows: Result[] = []
const secs = quick ? 4 : 10
rows.push(await throughput(32, secs))
rows.push(await throughput(128, secs))
rows.push(await streams(1000, quick ? 32 : 128, 100))
rows.push(await streams(1000, 32, 1000))
console.log(
  `inferwatch sim benchmark (${cpus().length} CPUs, node ${process.version}; sim CPU: the simulator process, 100 % = one core)\n`,
)
console.log(render(rows))
