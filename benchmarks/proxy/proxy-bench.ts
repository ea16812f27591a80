// `npm run bench:proxy` (README: Performance): direct vs nginx vs inferwatch (metering on), one
// run, the same loopback stub behind each. Progress on stderr, a Markdown table on stdout, JSON
// under bench-results/. `--quick` for a shorter run. A benchmark, not a test: it prints, never
// asserts.
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { cpus, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type Child,
  cpuSeconds,
  rssBytes,
  startInferwatch,
  startNginx,
  startNodePipe,
  startStub,
} from './_children.js'
import { measureCpuPerHop } from './_cpu-per-hop.js'
import {
  holdManyStreams,
  largeChatBody,
  measureLargePrompt,
  measureLatency,
  measureStreaming,
  type Target,
} from './_lanes.js'
import { fmtAdded, fmtMs, fmtRatio, type Row, renderTable, verdict } from './_report.js'
import { percentile } from './_stats.js'
import { runWrk, type WrkResult } from './_wrk.js'

// Built to dist-bench/benchmarks/proxy/; inferwatch itself runs from the package build in dist/.
const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(HERE, '../../..')
const DIST = join(ROOT, 'dist')
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`)

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a ? a.port : 0
      s.close(() => res(port))
    })
  })
}

function which(name: string, dirs: string[]): string {
  for (const d of dirs) {
    const p = join(d, name)
    try {
      accessSync(p, constants.X_OK)
      return p
    } catch {}
  }
  throw new Error(
    `${name} not found in ${dirs.join(', ')}: run \`make deps\` (apt-get installs it)`,
  )
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const plan = quick
    ? {
        latencyN: 400,
        warmup: 100,
        rounds: 1,
        streams: 8,
        wrkS: 3,
        largeN: 6,
        hopN: 1000,
        hopReps: 2,
        manyStreams: 300,
      }
    : {
        latencyN: 2000,
        warmup: 300,
        rounds: 3,
        streams: 10,
        wrkS: 8,
        largeN: 20,
        hopN: 3000,
        hopReps: 4,
        manyStreams: 1000,
      }
  const nginxPath = which('nginx', ['/usr/sbin', '/usr/bin', '/usr/local/sbin'])
  const wrkPath = which('wrk', ['/usr/bin', '/usr/local/bin'])
  const work = mkdtempSync(join(tmpdir(), 'iw-bench-'))
  const children: Child[] = []
  try {
    log(`starting stub, nginx and inferwatch (work dir ${work})`)
    const stub = await startStub(HERE)
    children.push(stub.child)
    const nginx = await startNginx(nginxPath, work, stub.url, await freePort())
    children.push(nginx.child)
    const iw = await startInferwatch(DIST, work, stub.url)
    children.push(iw.child)
    const pipe = await startNodePipe(HERE, stub.url)
    children.push(pipe.child)
    const targets: Target[] = [
      { name: 'direct', url: stub.url },
      { name: 'nginx', url: nginx.url },
      { name: 'node-pipe', url: pipe.url },
      { name: 'inferwatch', url: iw.url },
    ]

    const pidOf: Record<Target['name'], number> = {
      direct: stub.child.pid,
      nginx: nginx.child.pid,
      'node-pipe': pipe.child.pid,
      inferwatch: iw.child.pid,
    }

    log(`lane 1: added latency, concurrency 1, ${plan.latencyN} requests per target`)
    const lat = await measureLatency(targets, plan.latencyN, plan.warmup)
    const q = (name: string, p: number) => percentile(lat.get(name) ?? [], p)

    log(
      `lane 2: streaming, 64 deltas 20 ms apart, ${plan.rounds}x${plan.streams} streams per target`,
    )
    const st = await measureStreaming(targets, plan.rounds, plan.streams)
    const sq = (name: string, k: 'ttftMs' | 'gapsMs', p: number) =>
      percentile(st.get(name)?.[k] ?? [], p)

    log(`lane 3: throughput, wrk -c32 for ${plan.wrkS} s per target`)
    const wrk = new Map<string, WrkResult>()
    const rss = new Map<string, number>()
    const cpuUsPerRequest = new Map<string, number>()
    for (const t of targets) {
      const pid = pidOf[t.name]
      // CPU time is what the proxy process itself burnt: unlike wall time, it is not inflated when
      // the shared machine's other load takes the cores away.
      const cpuBefore = cpuSeconds(pid)
      const result = await runWrk(wrkPath, work, t.url, {
        connections: 32,
        durationS: plan.wrkS,
        threads: 1,
      })
      wrk.set(t.name, result)
      cpuUsPerRequest.set(
        t.name,
        ((cpuSeconds(pid) - cpuBefore) * 1e6) / Math.max(1, result.requests),
      )
      rss.set(t.name, rssBytes(pid))
      log(`  ${t.name}: ${wrk.get(t.name)?.requestsPerSec.toFixed(0)} req/s`)
    }

    // Before lane 4: a 1 MB prompt makes the meter load the Qwen3 tokenizer (~175 MB by itself).
    log(`lane 5: RSS holding ${plan.manyStreams} concurrent streams`)
    const held = new Map<string, { rss: number; ok: number }>()
    for (const t of targets) {
      const pid = pidOf[t.name]
      const r = await holdManyStreams(t, plan.manyStreams, () => rssBytes(pid))
      held.set(t.name, { rss: r.value, ok: r.ok })
    }

    log(`lane 4: ~1 MB chat prompt, ${plan.largeN} requests per target`)
    const big = largeChatBody(1024 * 1024)
    const lg = await measureLargePrompt(targets, plan.largeN, big)
    const rssAfterLarge = new Map(targets.map((t) => [t.name as string, rssBytes(pidOf[t.name])]))
    const lq = (name: string, p: number) => percentile(lg.get(name) ?? [], p)

    log(`lane 6: CPU per hop in one process, ${plan.hopReps}x${plan.hopN} requests per target`)
    const hop = await measureCpuPerHop(plan.hopN, plan.hopReps)

    const added = (f: (n: string) => number, n: 'nginx' | 'node-pipe' | 'inferwatch') =>
      f(n) - f('direct')
    const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN)
    const rows: Row[] = []
    const addedRow = (
      lane: string,
      f: (n: string) => number,
      target: (iw: number, ng: number) => [boolean, string],
    ) => {
      const ng = added(f, 'nginx')
      const iwv = added(f, 'inferwatch')
      const [ok, text] = target(iwv, ng)
      rows.push({
        lane,
        direct: fmtMs(f('direct')),
        nginx: fmtAdded(ng),
        nodePipe: fmtAdded(added(f, 'node-pipe')),
        inferwatch: fmtAdded(iwv),
        ratio: fmtRatio(ratio(iwv, ng)),
        target: `${text}: ${verdict(ok)}`,
      })
    }
    addedRow(
      '1 added latency p50',
      (n) => q(n, 0.5),
      (v) => [v <= 0.35, '<= +0.35 ms'],
    )
    addedRow(
      '1 added latency p90',
      (n) => q(n, 0.9),
      (v, ng) => [v <= 3 * Math.max(ng, 0.001), '<= 3x nginx'],
    )
    addedRow(
      '1 added latency p99',
      (n) => q(n, 0.99),
      () => [true, 'reported'],
    )
    addedRow(
      '2 streaming TTFT p99',
      (n) => sq(n, 'ttftMs', 0.99),
      (v) => [v <= 1, '<= +1 ms'],
    )
    addedRow(
      '2 inter-chunk gap p99',
      (n) => sq(n, 'gapsMs', 0.99),
      (v) => [v <= 0.2, '<= +0.2 ms'],
    )
    const rps = (n: string) => wrk.get(n)?.requestsPerSec ?? Number.NaN
    rows.push({
      lane: '3 throughput, wrk -c32 (req/s)',
      direct: rps('direct').toFixed(0),
      nginx: rps('nginx').toFixed(0),
      nodePipe: rps('node-pipe').toFixed(0),
      inferwatch: rps('inferwatch').toFixed(0),
      ratio: fmtRatio(ratio(rps('inferwatch'), rps('nginx'))),
      target: `>= 0.5x nginx: ${verdict(rps('inferwatch') >= 0.5 * rps('nginx'))}`,
    })
    const p99 = (n: string) => wrk.get(n)?.p99Ms ?? Number.NaN
    rows.push({
      lane: '3 wrk latency p99',
      direct: fmtMs(p99('direct')),
      nginx: fmtMs(p99('nginx')),
      nodePipe: fmtMs(p99('node-pipe')),
      inferwatch: fmtMs(p99('inferwatch')),
      ratio: fmtRatio(ratio(p99('inferwatch'), p99('nginx'))),
      target: 'reported',
    })
    const cpu = (n: string) => cpuUsPerRequest.get(n) ?? Number.NaN
    rows.push({
      lane: '3 proxy CPU per request (µs)',
      direct: `${cpu('direct').toFixed(0)} (stub)`,
      nginx: cpu('nginx').toFixed(0),
      nodePipe: cpu('node-pipe').toFixed(0),
      inferwatch: cpu('inferwatch').toFixed(0),
      ratio: fmtRatio(ratio(cpu('inferwatch'), cpu('nginx'))),
      target: 'reported',
    })
    const mb = (n: string) => `${((rss.get(n) ?? 0) / 1048576).toFixed(0)} MB`
    rows.push({
      lane: '3 RSS after wrk',
      direct: mb('direct'),
      nginx: mb('nginx'),
      nodePipe: mb('node-pipe'),
      inferwatch: mb('inferwatch'),
      ratio: '',
      target: 'reported',
    })
    addedRow(
      '4 1 MB prompt TTFT p50',
      (n) => lq(n, 0.5),
      (v) => [v <= 2, '<= +2 ms'],
    )
    addedRow(
      '4 1 MB prompt TTFT p90',
      (n) => lq(n, 0.9),
      () => [true, 'reported'],
    )
    const largeMb = (n: string) => `${((rssAfterLarge.get(n) ?? 0) / 1048576).toFixed(0)} MB`
    rows.push({
      lane: '4 RSS after the 1 MB prompts',
      direct: `${largeMb('direct')} (stub)`,
      nginx: largeMb('nginx'),
      nodePipe: largeMb('node-pipe'),
      inferwatch: `${largeMb('inferwatch')} (tokenizer loaded)`,
      ratio: '',
      target: 'reported',
    })
    const heldMb = (n: string) => {
      const h = held.get(n)
      return h
        ? `${(h.rss / 1048576).toFixed(0)} MB${h.ok < plan.manyStreams ? ` (${h.ok} ok)` : ''}`
        : 'n/a'
    }
    rows.push({
      lane: `5 RSS holding ${plan.manyStreams} streams`,
      direct: `${heldMb('direct')} (stub)`,
      nginx: heldMb('nginx'),
      nodePipe: heldMb('node-pipe'),
      inferwatch: heldMb('inferwatch'),
      ratio: '',
      target:
        plan.manyStreams === 1000
          ? `<= 150 MB: ${verdict((held.get('inferwatch')?.rss ?? Number.POSITIVE_INFINITY) <= 150 * 1048576)}`
          : 'reported',
    })
    const us = (x: number | undefined) =>
      x === undefined || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(0)} µs`
    rows.push({
      lane: '6 CPU per hop, one process (added µs)',
      direct: `${us(hop.direct)} (exchange)`,
      nginx: '—',
      nodePipe: `+${us(hop['node-pipe'])}`,
      inferwatch: `+${us(hop.metered)} (transport alone +${us(hop.transport)}; with a bearer key and user field +${us(hop.attributed)})`,
      ratio: '',
      target: 'reported',
    })

    const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z${quick ? ', --quick' : ''}`
    const table = renderTable(rows)
    process.stdout.write(`Proxy benchmark (${machine})\n\n${table}\n`)
    mkdirSync(join(ROOT, 'bench-results'), { recursive: true })
    const file = join(
      ROOT,
      'bench-results',
      `proxy-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
    )
    const dump = (m: Map<string, number[]>) =>
      Object.fromEntries(
        [...m].map(([k, v]) => [
          k,
          {
            p50: percentile(v, 0.5),
            p90: percentile(v, 0.9),
            p99: percentile(v, 0.99),
            n: v.length,
          },
        ]),
      )
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          machine,
          plan,
          latencyMs: dump(lat),
          streaming: Object.fromEntries(
            [...st].map(([k, v]) => [
              k,
              {
                ttftMs: dump(new Map([['x', v.ttftMs]])).x,
                gapMs: dump(new Map([['x', v.gapsMs]])).x,
              },
            ]),
          ),
          wrk: Object.fromEntries(wrk),
          rssBytes: Object.fromEntries(rss),
          cpuUsPerRequest: Object.fromEntries(cpuUsPerRequest),
          cpuPerHopUs: hop,
          manyStreams: Object.fromEntries(held),
          rssAfterLargeBytes: Object.fromEntries(rssAfterLarge),
          largePromptTtftMs: dump(lg),
          largePromptBytes: big.length,
          rows,
        },
        null,
        2,
      )}\n`,
    )
    log(`wrote ${file}`)
  } finally {
    for (const c of children.reverse()) await c.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  )
  process.exitCode = 1
})
