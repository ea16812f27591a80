// `inferwatch bench` against a minimal Node client loop, on the same no-op streaming stub, each in
// its own process on this machine's cores: (1) closed-loop throughput, (2) an open loop at
// 2,000 req/s (achieved rate, client queue p99), (3) 1,000 concurrent streams, (4) timing error
// (TTFT against the stub's schedule), (5) 256K-token prompts (TTFT against small prompts). Prints
// a Markdown table and writes JSON under bench-results/. --quick shortens the runs. Build with
// `npx tsc && npx tsc -p benchmarks`, run `node dist-bench/benchmarks/bench/bench-client.js`
// (or `npm run bench:client`).
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(HERE, '../../..')
const BIN = join(ROOT, 'dist/cli/bin.js')
const quick = process.argv.includes('--quick')
const scale = quick ? 0.25 : 1

interface Lane {
  lane: string
  minimal: string
  bench: string
  ratio: string
  target: string
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—')
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—')
const cell = (x: number | string) => (typeof x === 'number' ? f2(x) : x)

/** A row of the table, numbers to two decimals. */
const lane = (
  name: string,
  minimal: number | string,
  bench: number | string,
  target: string,
): Lane => ({
  lane: name,
  minimal: cell(minimal),
  bench: cell(bench),
  ratio: '',
  target,
})

/** A row where both measure the same thing: the two and their ratio (bench/minimal). */
const compared = (name: string, minimal: number, bench: number, target: string, f = f2): Lane => ({
  lane: name,
  minimal: f(minimal),
  bench: f(bench),
  ratio: f2(bench / minimal),
  target,
})

/** One run's load, as `inferwatch bench` flags: an open loop at `rate` when given, else closed. */
interface Load {
  concurrency: number
  requests: number
  input: number
  output: number
  rate?: number
  timeout?: string
}

function loadArgs(l: Load): string[] {
  return [
    ...(l.rate === undefined ? [] : ['--rate', String(l.rate), '--arrivals', 'constant']),
    '--concurrency',
    String(l.concurrency),
    '--requests',
    String(l.requests),
    '--input-tokens',
    String(l.input),
    '--output-tokens',
    String(l.output),
    ...(l.timeout === undefined ? [] : ['--timeout', l.timeout]),
  ]
}

async function startStub(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(HERE, '_stub.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<string>((res) =>
    child.stdout?.once('data', (b: Buffer) => res(b.toString().trim())),
  )
  return { child, url: `http://127.0.0.1:${port}` }
}

async function minimal(
  url: string,
  mode: 'c' | 'rate',
  value: number,
  requests: number,
  bodyFile?: string,
) {
  const { stdout } = await run(
    process.execPath,
    [
      join(HERE, '_minimal-client.js'),
      url,
      mode,
      String(value),
      String(requests),
      ...(bodyFile ? [bodyFile] : []),
    ],
    { maxBuffer: 1 << 20 },
  )
  return JSON.parse(stdout) as {
    completed: number
    rps: number
    ttft_p50: number
    ttft_p99: number
    queue_p99: number
  }
}

async function bench(url: string, load: Load, dir: string) {
  const name = `b${Math.random().toString(36).slice(2, 8)}`
  await run(
    process.execPath,
    [
      BIN,
      'bench',
      '--target',
      url,
      '--model',
      'stub',
      '--quiet',
      '--out',
      dir,
      '--name',
      name,
      '--warmup',
      '0',
      ...loadArgs(load),
    ],
    {
      maxBuffer: 64 << 20,
    },
  )
  return JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as Record<string, number>
}

type MinimalResult = Awaited<ReturnType<typeof minimal>>
type BenchResult = Awaited<ReturnType<typeof bench>>

/** Lanes 1 to 4: the minimal loop, then the bench, at the same load; the rows each adds. */
interface Case {
  key: string
  url: string
  minimal: { mode: 'c' | 'rate'; value: number }
  load: Load
  /** What of the bench's JSON the raw results keep (default: all of it). */
  rawBench?: (b: BenchResult) => unknown
  lanes: (m: MinimalResult, b: BenchResult) => Lane[]
}

function cases(stubUrl: string): Case[] {
  const fast = `${stubUrl}/fast`
  const n = Math.round(20000 * scale)
  const rn = Math.round(10000 * scale)
  const sn = Math.round(2000 * Math.max(scale, 0.5))
  const tn = Math.round(640 * Math.max(scale, 0.5))
  return [
    {
      key: 'throughput',
      url: fast,
      minimal: { mode: 'c', value: 64 },
      load: { concurrency: 64, requests: n, input: 16, output: 4 },
      rawBench: (b) => b.request_throughput,
      lanes: (m, b) => [
        compared(
          '1 closed loop, 64 in flight (req/s)',
          m.rps,
          b.request_throughput ?? 0,
          '>= 2000',
          f1,
        ),
      ],
    },
    {
      key: 'rate',
      url: fast,
      minimal: { mode: 'rate', value: 2000 },
      load: { rate: 2000, concurrency: 1000, requests: rn, input: 16, output: 4 },
      lanes: (m, b) => [
        compared(
          '2 open loop at 2000 req/s: achieved (req/s)',
          m.rps,
          b.request_throughput ?? 0,
          '>= 2000',
          f1,
        ),
        lane(
          '2 open loop: client queue p99 (ms)',
          m.queue_p99,
          b.p99_client_queue_time_ms ?? Number.NaN,
          'reported',
        ),
      ],
    },
    {
      key: 'streams',
      url: `${stubUrl}/sched/100/100/20`,
      minimal: { mode: 'c', value: 1000 },
      load: { concurrency: 1000, requests: sn, input: 16, output: 20, timeout: '60s' },
      lanes: (m, b) => [
        lane(
          '3 1000 concurrent streams: peak in flight',
          '1000 (by construction)',
          String(b.max_concurrency_seen),
          '1000',
        ),
        lane(
          '3 1000 streams: TTFT p99 − 100 ms schedule (ms)',
          m.ttft_p99 - 100,
          (b.p99_ttft_ms ?? 0) - 100,
          '<= 1 ms',
        ),
      ],
    },
    {
      key: 'timing',
      url: `${stubUrl}/sched/50/10/10`,
      minimal: { mode: 'c', value: 32 },
      load: { concurrency: 32, requests: tn, input: 16, output: 10 },
      lanes: (m, b) => [
        lane(
          '4 timing: TTFT p50 − 50 ms schedule (ms)',
          m.ttft_p50 - 50,
          (b.median_ttft_ms ?? 0) - 50,
          'reported',
        ),
        lane(
          '4 timing: TTFT p99 − 50 ms schedule (ms)',
          m.ttft_p99 - 50,
          (b.p99_ttft_ms ?? 0) - 50,
          '<= 1 ms',
        ),
        lane('4 timing: TPOT p99 − 10 ms schedule (ms)', '—', (b.p99_tpot_ms ?? 0) - 10, '<= 1 ms'),
      ],
    },
  ]
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'iw-bench-client-'))
  const stub = await startStub()
  const lanes: Lane[] = []
  const raw: Record<string, unknown> = {}
  const load0 = loadavg()[0] ?? 0
  try {
    const fast = `${stub.url}/fast`
    // Warm both paths once (JIT, connections of the stub).
    await minimal(fast, 'c', 16, 500)
    for (const c of cases(stub.url)) {
      const m = await minimal(c.url, c.minimal.mode, c.minimal.value, c.load.requests)
      const b = await bench(c.url, c.load, dir)
      raw[c.key] = { minimal: m, bench: c.rawBench ? c.rawBench(b) : b }
      lanes.push(...c.lanes(m, b))
    }

    // 256K-token prompts (about 1 MB of chat body) against 16-token ones, 4 in flight.
    const ln = Math.round(40 * Math.max(scale, 0.5))
    // The shipped build (its tokenizer worker lives beside it in dist/).
    const { preparePrompts } = (await import(
      pathToFileURL(join(ROOT, 'dist/bench/index.js')).href
    )) as typeof import('../../src/bench/index.js')
    const builder = await preparePrompts({
      target: {
        baseUrl: fast,
        endpoint: 'chat',
        model: 'stub',
        stream: true,
        ignoreEos: true,
        tokenIds: false,
      },
      prompts: {
        input: { kind: 'fixed', tokens: 262144 },
        output: { kind: 'fixed', tokens: 4 },
        sharedPrefixTokens: 0,
      },
      load: {
        arrivals: { kind: 'closed' },
        maxConcurrency: 4,
        warmupRequests: 0,
        timeoutMs: 60_000,
        seed: 0,
      },
    })
    const big = builder.next(262144)
    const bodyFile = join(dir, 'big.json')
    writeFileSync(
      bodyFile,
      JSON.stringify({
        model: 'stub',
        messages: [{ role: 'user', content: (big.text ?? '') + (big.tail?.text ?? '') }],
        max_tokens: 4,
        stream: true,
      }),
    )
    const m5s = await minimal(fast, 'c', 4, ln)
    const m5 = await minimal(fast, 'c', 4, ln, bodyFile)
    const b5s = await bench(fast, { concurrency: 4, requests: ln, input: 16, output: 4 }, dir)
    const b5 = await bench(
      fast,
      { concurrency: 4, requests: ln, input: 262144, output: 4, timeout: '60s' },
      dir,
    )
    raw.long = { minimalSmall: m5s, minimal: m5, benchSmall: b5s, bench: b5 }
    lanes.push(
      compared(
        '5 256K-token prompt: TTFT p50 (ms)',
        m5.ttft_p50,
        b5.median_ttft_ms ?? 0,
        'no slowdown',
      ),
      lane(
        '5 256K-token prompt: added over a 16-token one (ms)',
        m5.ttft_p50 - m5s.ttft_p50,
        (b5.median_ttft_ms ?? 0) - (b5s.median_ttft_ms ?? 0),
        'reported',
      ),
    )
  } finally {
    stub.child.kill()
    rmSync(dir, { recursive: true, force: true })
  }
  const load1 = loadavg()[0] ?? 0
  const header = `inferwatch bench vs a minimal Node client loop — ${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, load average ${load0.toFixed(1)} → ${load1.toFixed(1)}`
  const table = [
    '| lane | minimal Node loop | inferwatch bench | ratio (bench/minimal) | target |',
    '|---|---|---|---|---|',
    ...lanes.map((l) => `| ${l.lane} | ${l.minimal} | ${l.bench} | ${l.ratio} | ${l.target} |`),
  ].join('\n')
  process.stdout.write(`${header}\n\n${table}\n`)
  const out = join(ROOT, 'bench-results')
  mkdirSync(out, { recursive: true })
  writeFileSync(
    join(out, `bench-client-${Date.now()}.json`),
    `${JSON.stringify({ header, lanes, raw }, null, 2)}\n`,
  )
}

await main()
