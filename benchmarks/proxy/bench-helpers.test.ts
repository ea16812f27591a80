import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { settle } from './_children.js'
import { compareRuns, loadRun } from './_compare.js'
import { roundOrder } from './_lanes.js'
import { type Row, ratiosOf, renderTable } from './_report.js'
import { buildRows, PORTKEY_PASS_DIRECT } from './_rows.js'
import { pairedRatio, percentile } from './_stats.js'
import { parseWrkOutput } from './_wrk.js'

// The benchmark is a script, not a test; these pin the parsing its table depends on.

const WRK = `Running 3s test @ http://127.0.0.1:8080/v1/chat/completions
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.18ms    1.16ms  22.41ms   91.38%
    Req/Sec     7.71k   450.11     8.09k    93.33%
  Latency Distribution
     50%    3.94ms
     75%  850.00us
     90%    5.21ms
     99%    1.02s
  23012 requests in 3.00s, 8.80MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   7669.21
Transfer/sec:      2.93MB
`

test('parseWrkOutput reads rate, request count, percentiles in any unit, and errors', () => {
  const r = parseWrkOutput(WRK)
  assert.equal(r.requestsPerSec, 7669.21)
  assert.equal(r.requests, 23012)
  assert.equal(r.p50Ms, 3.94)
  assert.equal(r.p99Ms, 1020)
  assert.equal(r.errors, 7)
  assert.ok(Number.isNaN(parseWrkOutput('garbage').requestsPerSec))
})

test('percentile is nearest-rank', () => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i)
  assert.equal(percentile(xs, 0.5), 50)
  assert.equal(percentile(xs, 0.99), 99)
  assert.equal(percentile(xs, 1), 100)
  assert.equal(percentile([7], 0.9), 7)
  assert.ok(Number.isNaN(percentile([], 0.5)))
})

const row = (
  lane: string,
  figures: Row['figures'],
  better: Row['better'] = 'lower',
  unit = 'ms',
): Row => ({
  lane,
  cells: { direct: '1', nginx: '2', 'node-pipe': '3', portkey: '—', inferwatch: '4' },
  ratios: ratiosOf(figures),
  target: 'met',
  figures,
  unit,
  better,
})

test('renderTable is a Markdown table with every target and ratio column', () => {
  const t = renderTable([row('x', { nginx: 2, 'node-pipe': 1, inferwatch: 4 })])
  const lines = t.split('\n')
  assert.equal(lines.length, 3)
  assert.match(
    lines[0] as string,
    /\| Portkey \| inferwatch \| iw\/nginx \| iw\/pipe \| iw\/Portkey \|/,
  )
  assert.match(lines[1] as string, /^\|(---\|){10}$/)
  // No Portkey figure: its ratio stays empty rather than a made-up number.
  assert.equal(lines[2], '| x | 1 | 2 | 3 | — | 4 | 2.00x | 4.00x |  | met |')
})

test('compareRuns reports each figure both runs have, flagging changes beyond the noise', () => {
  const before = {
    machine: 'then',
    rows: [
      row('p50', { nginx: 0.3, inferwatch: 1.0 }),
      row('rps', { inferwatch: 3000 }, 'higher', 'req/s'),
    ],
  }
  const now = {
    machine: 'now',
    rows: [
      row('p50', { nginx: 0.31, inferwatch: 1.5 }),
      row('rps', { inferwatch: 2000 }, 'higher', 'req/s'),
      row('new lane', { inferwatch: 1 }),
    ],
  }
  const lines = compareRuns(before, now).split('\n')
  assert.ok(
    lines.includes('| p50 | nginx | 0.300 ms | 0.310 ms | +0.010 ms (+3%) |  |'),
    lines.join('\n'),
  )
  assert.ok(lines.includes('| p50 | inferwatch | 1.000 ms | 1.500 ms | +0.500 ms (+50%) | WORSE |'))
  assert.ok(
    lines.includes('| rps | inferwatch | 3000 req/s | 2000 req/s | -1000 req/s (-33%) | WORSE |'),
  )
  assert.ok(!lines.some((l) => l.startsWith('| new lane')), 'a lane the old run lacks is skipped')
})

test('loadRun explains a file without per-lane figures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iw-cmp-'))
  const file = join(dir, 'old.json')
  writeFileSync(file, JSON.stringify({ machine: 'm', rows: [{ lane: 'x', direct: '1' }] }))
  assert.throws(() => loadRun(file), /no per-lane figures/)
  assert.throws(() => loadRun(join(dir, 'missing.json')), /cannot read it as JSON/)
  rmSync(dir, { recursive: true, force: true })
})

test('lane order: a permutation each round, repeatable, and no target always behind the same one', () => {
  const rounds = Array.from({ length: 400 }, (_, i) => roundOrder(i, 5))
  for (const r of rounds) assert.deepEqual([...r].sort(), [0, 1, 2, 3, 4])
  assert.deepEqual(roundOrder(7, 5), roundOrder(7, 5))
  // How often target 4 runs right after each other target: every predecessor shows up, none
  // dominates (a rotated order would give one predecessor 80 % of the rounds).
  const after = new Map<number, number>()
  for (const r of rounds) {
    const at = r.indexOf(4)
    if (at > 0) after.set(r[at - 1] as number, (after.get(r[at - 1] as number) ?? 0) + 1)
  }
  assert.equal(after.size, 4)
  const total = [...after.values()].reduce((a, b) => a + b, 0)
  for (const [, n] of after) assert.ok(n / total > 0.15 && n / total < 0.35, `${n}/${total}`)
})

test('settle waits for idle processes and gives up on a busy one', async (t) => {
  const idle = spawn('sleep', ['30'])
  const busy = spawn(process.execPath, ['-e', 'for (;;) {}'])
  t.after(() => {
    idle.kill()
    busy.kill()
  })
  assert.equal(await settle([idle.pid as number], 3000), true)
  // A spinning process never goes quiet: the wait ends at its bound, saying so.
  assert.equal(await settle([busy.pid as number], 800), false)
})

test("lane 1: Portkey's added latency is against direct of its own pass, the others' against the shared one", () => {
  const same = (ms: number) => Array.from({ length: 11 }, () => ms)
  const measured = {
    names: ['direct', 'nginx', 'node-pipe', 'portkey', 'inferwatch'] as const,
    manyStreams: 1000,
    latencyMs: new Map([
      ['direct', same(1)],
      ['nginx', same(1.2)],
      ['node-pipe', same(1.5)],
      ['inferwatch', same(1.6)],
      ['portkey', same(5)],
      [PORTKEY_PASS_DIRECT, same(2)],
    ]),
    streaming: new Map(),
    wrk: new Map(),
    cpuUsPerRequest: new Map(),
    rssAfterWrk: new Map(),
    held: new Map(),
    largeTtftMs: new Map(),
    rssAfterLarge: new Map(),
    hop: {},
  }
  const p50 = buildRows(measured).find((r) => r.lane === '1 added latency p50')
  assert.ok(p50)
  assert.equal(p50.figures.direct, 1)
  assert.ok(Math.abs((p50.figures.portkey ?? 0) - 3) < 1e-9, `portkey ${p50.figures.portkey}`)
  assert.ok(Math.abs((p50.figures.inferwatch ?? 0) - 0.6) < 1e-9)
  assert.ok(Math.abs((p50.figures['node-pipe'] ?? 0) - 0.5) < 1e-9)
  // Without a pass of its own (an older run's data), Portkey is against the shared direct.
  measured.latencyMs.delete(PORTKEY_PASS_DIRECT)
  const old = buildRows(measured).find((r) => r.lane === '1 added latency p50')
  assert.ok(Math.abs((old?.figures.portkey ?? 0) - 4) < 1e-9)
})

test('pairedRatio: the median of per-round ratios of the means, rounds missing a side skipped', () => {
  const f = (round: number, name: string, value: number) => ({ round, name, value })
  const figures = [
    // Round 0: a slow machine for both (ratio 0.9); round 1: fast for both (0.8); round 2: 1.0.
    f(0, 'iw', 400),
    f(0, 'iw', 500),
    f(0, 'pipe', 500),
    f(1, 'iw', 800),
    f(1, 'pipe', 1000),
    f(2, 'pipe', 700),
    f(2, 'iw', 700),
    f(2, 'other', 1),
    f(3, 'iw', 5000),
  ]
  assert.ok(Math.abs(pairedRatio(figures, 'iw', 'pipe') - 0.9) < 1e-9)
  // The ratio of the overall medians would say otherwise (700 / 700 = 1.0).
  assert.ok(Number.isNaN(pairedRatio(figures, 'iw', 'nobody')))
})
