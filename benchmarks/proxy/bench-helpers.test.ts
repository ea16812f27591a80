import assert from 'node:assert/strict'
import { test } from 'node:test'
import { renderTable } from './_report.js'
import { percentile } from './_stats.js'
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

test('renderTable is a Markdown table with every column', () => {
  const t = renderTable([
    {
      lane: 'x',
      direct: '1',
      nginx: '2',
      nodePipe: '3',
      inferwatch: '4',
      ratio: '2.00x',
      target: 'met',
    },
  ])
  const lines = t.split('\n')
  assert.equal(lines.length, 3)
  assert.match(lines[1] as string, /^\|(---\|){7}$/)
  assert.equal(lines[2], '| x | 1 | 2 | 3 | 4 | 2.00x | met |')
})
