// `npm run bench:proxy` (README: Performance): direct vs nginx vs a bare Node pipe vs Portkey's
// gateway vs inferwatch (metering on), one run, the same loopback stub behind each. Progress on
// stderr, a Markdown table on stdout, JSON under bench-results/ (every lane's figures).
// `--quick` for a shorter run; `--compare previous.json` adds the change against an earlier run.
// Portkey runs only when installed under benchmarks/.peer (never a dependency of the package):
//   npm install --prefix benchmarks/.peer @portkey-ai/gateway@1.15.2
// A benchmark, not a test: it prints, never asserts.
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { cpus, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type Child,
  cpuSeconds,
  PORTKEY_VERSION,
  rssBytes,
  settle,
  startInferwatch,
  startNginx,
  startNodePipe,
  startPortkey,
  startStub,
} from './_children.js'
import { compareRuns, loadRun } from './_compare.js'
import { measureCpuPerHop } from './_cpu-per-hop.js'
import {
  holdManyStreams,
  largeChatBody,
  measureLargePrompt,
  measureLatency,
  measureStreaming,
  roundOrder,
  type Target,
} from './_lanes.js'
import { renderTable, type TargetName } from './_report.js'
import { buildRows, PORTKEY_PASS_DIRECT } from './_rows.js'
import { pairedRatio, percentile, type RoundFigure } from './_stats.js'
import { runWrk, type WrkResult } from './_wrk.js'

// Built to dist-bench/benchmarks/proxy/; inferwatch itself runs from the package build in dist/.
const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(HERE, '../../..')
const DIST = join(ROOT, 'dist')
const PEER = join(ROOT, 'benchmarks/.peer')
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
  const compareAt = process.argv.indexOf('--compare')
  const compareFile = compareAt >= 0 ? process.argv[compareAt + 1] : undefined
  if (compareAt >= 0 && !compareFile)
    throw new Error('--compare needs a file: --compare bench-results/proxy-....json')
  // Read it first: a wrong path fails now, not after two minutes of measuring.
  const previous = compareFile ? loadRun(compareFile) : undefined
  const plan = quick
    ? {
        latencyN: 400,
        warmup: 100,
        rounds: 1,
        streams: 8,
        wrkS: 2,
        wrkRounds: 1,
        largeN: 6,
        hopN: 1000,
        hopReps: 2,
        manyStreams: 300,
      }
    : {
        latencyN: 2000,
        warmup: 300,
        // 100 streams per target: a p99 that is not simply the slowest one.
        rounds: 10,
        streams: 10,
        wrkS: 3,
        wrkRounds: 5,
        largeN: 40,
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
    // Two processes each of the Node targets (bare pipe and inferwatch) for the c=1 and throughput
    // lanes: on a shared 2-core VM, two processes of the same build have measured 0.73x and 0.89x
    // of the same pipe in one run (where the scheduler happens to place each against wrk and the
    // stub), so one process per target makes a single run a draw. Their samples are pooled, and
    // the throughput lane takes the median over both processes' rounds.
    const iws = [
      await startInferwatch(DIST, work, stub.url),
      await startInferwatch(DIST, work, stub.url),
    ]
    const pipes = [await startNodePipe(HERE, stub.url), await startNodePipe(HERE, stub.url)]
    for (const c of [...iws, ...pipes]) children.push(c.child)
    const portkey = await startPortkey(PEER, stub.url, await freePort())
    if (portkey) children.push(portkey.child)
    else
      log(
        `Portkey's gateway is not installed, its column stays empty; to add it: npm run bench:peer (npm install --prefix benchmarks/.peer @portkey-ai/gateway@${PORTKEY_VERSION})`,
      )
    const direct: Target = { name: 'direct', url: stub.url, pid: stub.child.pid }
    const portkeyTarget: Target | undefined = portkey
      ? { name: 'portkey', url: portkey.url, headers: portkey.headers, pid: portkey.child.pid }
      : undefined
    const nginxTarget: Target = { name: 'nginx', url: nginx.url, pid: nginx.child.pid }
    const pipeTargets = pipes.map(
      (p): Target => ({ name: 'node-pipe', url: p.url, pid: p.child.pid }),
    )
    const iwTargets = iws.map((p): Target => ({ name: 'inferwatch', url: p.url, pid: p.child.pid }))
    // One target per process; `primary` holds the first of each name (the lanes run once each).
    const targets: Target[] = [
      direct,
      nginxTarget,
      ...pipeTargets,
      ...(portkeyTarget ? [portkeyTarget] : []),
      ...iwTargets,
    ]
    const primary = targets.filter((t, i) => targets.findIndex((u) => u.name === t.name) === i)

    // Portkey 1.15.2 on Node answers the stub's streamed chats with HTTP 500 ("TypeError: immutable"
    // from its response service adding headers, the error of
    // https://github.com/Portkey-AI/gateway/issues/1389): it runs the non-streamed lanes only (the
    // requests of lanes 2, 4 and 5 are `stream: true`).
    const streamTargets = primary.filter((t) => t.name !== 'portkey')
    const pidOf: Partial<Record<TargetName, number>> = Object.fromEntries(
      primary.map((t) => [t.name, t.pid]),
    )

    const allPids = targets.map((t) => t.pid).filter((p): p is number => p !== undefined)
    await settle(allPids)
    log(`lane 1: added latency, concurrency 1, ${plan.latencyN} requests per process`)
    // One pass per pair of Node processes (direct, nginx, a pipe, an inferwatch, interleaved
    // request by request), the samples pooled by target. Not all seven processes in one pass: each
    // would then sit idle through six others' requests and start every one of its own with cold
    // caches, which charges a process by how much code it runs, not by its latency under load.
    // Portkey runs in a pass of its own (with direct, its baseline): each of its requests leaves
    // ~2 ms of CPU behind (its logging and GC), which on 2 cores lands on whichever target is
    // measured next.
    const lat = new Map<string, number[]>()
    const pool = (from: Map<string, number[]>, rename: Record<string, string> = {}) => {
      for (const [name, samples] of from) {
        const key = rename[name] ?? name
        lat.set(key, [...(lat.get(key) ?? []), ...samples])
      }
    }
    for (let k = 0; k < iwTargets.length; k++) {
      const pass = [direct, nginxTarget, pipeTargets[k], iwTargets[k]] as Target[]
      await settle(allPids)
      pool(await measureLatency(pass, plan.latencyN, plan.warmup))
    }
    if (portkeyTarget) {
      await settle(allPids)
      const own = await measureLatency([direct, portkeyTarget], plan.latencyN, plan.warmup)
      pool(own, { direct: PORTKEY_PASS_DIRECT })
    }

    await settle(allPids)
    log(
      `lane 2: streaming, 64 deltas 20 ms apart, ${plan.rounds}x${plan.streams} streams per target`,
    )
    const st = await measureStreaming(streamTargets, plan.rounds, plan.streams)

    log(
      `lane 3: throughput, wrk -c32, ${plan.wrkRounds} rounds of ${plan.wrkS} s per process, each round in a fresh order`,
    )
    const wrk = new Map<string, WrkResult>()
    const rss = new Map<string, number>()
    const cpuUsPerRequest = new Map<string, number>()
    const runs = new Map<string, { result: WrkResult; cpuUs: number }[]>()
    const rounds: RoundFigure[] = []
    for (let round = 0; round < plan.wrkRounds; round++) {
      for (const j of roundOrder(round, targets.length)) {
        const t = targets[j] as Target
        const pid = t.pid ?? 0
        // A target still busy with the previous one's backlog (Portkey's, above all) would take the
        // cores from this one: every process settles first.
        await settle(allPids)
        // CPU time is what the proxy process itself burnt: unlike wall time, it is not inflated
        // when the shared machine's other load takes the cores away.
        const cpuBefore = cpuSeconds(pid)
        const result = await runWrk(wrkPath, work, t.url, {
          connections: 32,
          durationS: plan.wrkS,
          threads: 1,
          ...(t.headers ? { headers: t.headers } : {}),
        })
        const cpuUs = ((cpuSeconds(pid) - cpuBefore) * 1e6) / Math.max(1, result.requests)
        runs.set(t.name, [...(runs.get(t.name) ?? []), { result, cpuUs }])
        rounds.push({ round, name: t.name, value: result.requestsPerSec })
      }
    }
    // The verdict's ratio: per round, inferwatch's processes against the pipe's, then the median.
    const throughputVsPipe = pairedRatio(rounds, 'inferwatch', 'node-pipe')
    for (const t of primary) {
      // The median round by throughput, over all of the target's processes, stands for the target
      // (its latency and CPU with it).
      const sorted = [...(runs.get(t.name) ?? [])].sort(
        (a, b) => a.result.requestsPerSec - b.result.requestsPerSec,
      )
      const mid = sorted[Math.floor(sorted.length / 2)]
      if (!mid) continue
      wrk.set(t.name, mid.result)
      cpuUsPerRequest.set(t.name, mid.cpuUs)
      rss.set(t.name, rssBytes(pidOf[t.name] ?? 0))
      log(
        `  ${t.name}: ${mid.result.requestsPerSec.toFixed(0)} req/s (rounds: ${sorted.map((r) => r.result.requestsPerSec.toFixed(0)).join(', ')})`,
      )
    }

    // Before lane 4: a 1 MB prompt makes the meter load the Qwen3 tokenizer (~175 MB by itself).
    await settle(allPids)
    log(`lane 5: RSS holding ${plan.manyStreams} concurrent streams`)
    const held = new Map<string, { rss: number; ok: number }>()
    for (const t of streamTargets) {
      const pid = pidOf[t.name] ?? 0
      const r = await holdManyStreams(t, plan.manyStreams, () => rssBytes(pid))
      held.set(t.name, { rss: r.value, ok: r.ok })
    }

    log(`lane 4: ~1 MB chat prompt, ${plan.largeN} requests per target`)
    const big = largeChatBody(1024 * 1024)
    const lg = await measureLargePrompt(streamTargets, plan.largeN, big, () => settle(allPids))
    const rssAfterLarge = new Map(
      streamTargets.map((t) => [t.name as string, rssBytes(pidOf[t.name] ?? 0)]),
    )

    await settle(allPids)
    log(`lane 6: CPU per hop in one process, ${plan.hopReps}x${plan.hopN} requests per target`)
    const hop = await measureCpuPerHop(plan.hopN, plan.hopReps)

    const rows = buildRows({
      names: primary.map((t) => t.name),
      manyStreams: plan.manyStreams,
      latencyMs: lat,
      streaming: st,
      wrk,
      cpuUsPerRequest,
      rssAfterWrk: rss,
      held,
      throughputVsPipe,
      largeTtftMs: lg,
      rssAfterLarge,
      hop,
    })

    const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z${quick ? ', --quick' : ''}`
    const table = renderTable(rows)
    const note = portkey
      ? `Portkey: @portkey-ai/gateway ${PORTKEY_VERSION}, custom-host mode (x-portkey-provider: openai); non-streamed lanes only: on Node it answers streamed chats with HTTP 500, TypeError: immutable (as in https://github.com/Portkey-AI/gateway/issues/1389).`
      : `Portkey: not installed, not run (npm run bench:peer installs it under benchmarks/.peer).`
    process.stdout.write(`Proxy benchmark (${machine})\n\n${table}\n\n${note}\n`)
    if (previous) {
      process.stdout.write(`\n${compareRuns(previous, { machine, rows })}\n`)
    }
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
          wrkRounds: rounds,
          throughputVsPipe,
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
