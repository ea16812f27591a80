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

async function bench(url: string, args: string[], dir: string) {
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
      ...args,
    ],
    {
      maxBuffer: 64 << 20,
    },
  )
  return JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as Record<string, number>
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—')
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—')

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'iw-bench-client-'))
  const stub = await startStub()
  const lanes: Lane[] = []
  const raw: Record<string, unknown> = {}
  const load0 = loadavg()[0] ?? 0
  try {
    const fast = `${stub.url}/fast`
    const n = Math.round(20000 * scale)
    // Warm both paths once (JIT, connections of the stub).
    await minimal(fast, 'c', 16, 500)
    const m1 = await minimal(fast, 'c', 64, n)
    const b1 = await bench(
      fast,
      [
        '--concurrency',
        '64',
        '--requests',
        String(n),
        '--input-tokens',
        '16',
        '--output-tokens',
        '4',
      ],
      dir,
    )
    raw.throughput = { minimal: m1, bench: b1.request_throughput }
    lanes.push({
      lane: '1 closed loop, 64 in flight (req/s)',
      minimal: f1(m1.rps),
      bench: f1(b1.request_throughput ?? 0),
      ratio: f2((b1.request_throughput ?? 0) / m1.rps),
      target: '>= 2000',
    })

    const rn = Math.round(10000 * scale)
    const m2 = await minimal(fast, 'rate', 2000, rn)
    const b2 = await bench(
      fast,
      [
        '--rate',
        '2000',
        '--arrivals',
        'constant',
        '--concurrency',
        '1000',
        '--requests',
        String(rn),
        '--input-tokens',
        '16',
        '--output-tokens',
        '4',
      ],
      dir,
    )
    raw.rate = { minimal: m2, bench: b2 }
    lanes.push({
      lane: '2 open loop at 2000 req/s: achieved (req/s)',
      minimal: f1(m2.rps),
      bench: f1(b2.request_throughput ?? 0),
      ratio: f2((b2.request_throughput ?? 0) / m2.rps),
      target: '>= 2000',
    })
    lanes.push({
      lane: '2 open loop: client queue p99 (ms)',
      minimal: f2(m2.queue_p99),
      bench: f2(b2.p99_client_queue_time_ms ?? Number.NaN),
      ratio: '',
      target: 'reported',
    })

    const streams = `${stub.url}/sched/100/100/20`
    const sn = Math.round(2000 * Math.max(scale, 0.5))
    const m3 = await minimal(streams, 'c', 1000, sn)
    const b3 = await bench(
      streams,
      [
        '--concurrency',
        '1000',
        '--requests',
        String(sn),
        '--input-tokens',
        '16',
        '--output-tokens',
        '20',
        '--timeout',
        '60s',
      ],
      dir,
    )
    raw.streams = { minimal: m3, bench: b3 }
    lanes.push({
      lane: '3 1000 concurrent streams: peak in flight',
      minimal: '1000 (by construction)',
      bench: String(b3.max_concurrency_seen),
      ratio: '',
      target: '1000',
    })
    lanes.push({
      lane: '3 1000 streams: TTFT p99 − 100 ms schedule (ms)',
      minimal: f2(m3.ttft_p99 - 100),
      bench: f2((b3.p99_ttft_ms ?? 0) - 100),
      ratio: '',
      target: '<= 1 ms',
    })

    const sched = `${stub.url}/sched/50/10/10`
    const tn = Math.round(640 * Math.max(scale, 0.5))
    const m4 = await minimal(sched, 'c', 32, tn)
    const b4 = await bench(
      sched,
      [
        '--concurrency',
        '32',
        '--requests',
        String(tn),
        '--input-tokens',
        '16',
        '--output-tokens',
        '10',
      ],
      dir,
    )
    raw.timing = { minimal: m4, bench: b4 }
    lanes.push({
      lane: '4 timing: TTFT p50 − 50 ms schedule (ms)',
      minimal: f2(m4.ttft_p50 - 50),
      bench: f2((b4.median_ttft_ms ?? 0) - 50),
      ratio: '',
      target: 'reported',
    })
    lanes.push({
      lane: '4 timing: TTFT p99 − 50 ms schedule (ms)',
      minimal: f2(m4.ttft_p99 - 50),
      bench: f2((b4.p99_ttft_ms ?? 0) - 50),
      ratio: '',
      target: '<= 1 ms',
    })
    lanes.push({
      lane: '4 timing: TPOT p99 − 10 ms schedule (ms)',
      minimal: '—',
      bench: f2((b4.p99_tpot_ms ?? 0) - 10),
      ratio: '',
      target: '<= 1 ms',
    })

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
    const b5s = await bench(
      fast,
      [
        '--concurrency',
        '4',
        '--requests',
        String(ln),
        '--input-tokens',
        '16',
        '--output-tokens',
        '4',
      ],
      dir,
    )
    const b5 = await bench(
      fast,
      [
        '--concurrency',
        '4',
        '--requests',
        String(ln),
        '--input-tokens',
        '262144',
        '--output-tokens',
        '4',
        '--timeout',
        '60s',
      ],
      dir,
    )
    raw.long = { minimalSmall: m5s, minimal: m5, benchSmall: b5s, bench: b5 }
    lanes.push({
      lane: '5 256K-token prompt: TTFT p50 (ms)',
      minimal: f2(m5.ttft_p50),
      bench: f2(b5.median_ttft_ms ?? 0),
      ratio: f2((b5.median_ttft_ms ?? 0) / m5.ttft_p50),
      target: 'no slowdown',
    })
    lanes.push({
      lane: '5 256K-token prompt: added over a 16-token one (ms)',
      minimal: f2(m5.ttft_p50 - m5s.ttft_p50),
      bench: f2((b5.median_ttft_ms ?? 0) - (b5s.median_ttft_ms ?? 0)),
      ratio: '',
      target: 'reported',
    })
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
