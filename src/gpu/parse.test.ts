import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isAppError } from '../shared/index.js'
import { parseAppsCsv, parseGpuCsv } from './_parse.js'
import { GPU_QUERY_FIELDS } from './query.js'

const ROW =
  '0, GPU-1, 00000000:01:00.0, 570.1, 24564, 100, 5, 1, 40, 30.5, 450.00, [N/A], NVIDIA GeForce RTX 4090'

test('parseGpuCsv: header with units and values with units are read like nounits', () => {
  const header = GPU_QUERY_FIELDS.map((f) => (f.startsWith('memory') ? `${f} [MiB]` : f)).join(', ')
  const withUnits =
    '0, GPU-1, 00000000:01:00.0, 570.1, 24564 MiB, 100 MiB, 5 %, 1 %, 40, 30.50 W, 450.00 W, [N/A], NVIDIA GeForce RTX 4090'
  assert.deepEqual(parseGpuCsv(`${header}\n${withUnits}\n`), parseGpuCsv(`${ROW}\n`))
  const [g] = parseGpuCsv(ROW)
  assert.equal(g?.memoryTotalBytes, 24564 * 1048576)
  assert.equal(g?.utilizationRatio, 0.05)
  assert.equal(g?.powerDrawWatts, 30.5)
  assert.equal(g?.migEnabled, null)
})

test('parseGpuCsv: a comma inside the GPU name is kept (name is the last field)', () => {
  assert.equal(
    parseGpuCsv(`${ROW}, Special, Edition`)[0]?.name,
    'NVIDIA GeForce RTX 4090, Special, Edition',
  )
})

test('parseGpuCsv: empty output is no GPU; garbage is GPU_SMI_FAILED naming the problem', () => {
  assert.deepEqual(parseGpuCsv('\n'), [])
  const cases: [string, RegExp][] = [
    ['No devices were found', /line 1 has 1 values, expected 13/],
    [`${ROW}\n${ROW}`, /listed twice/],
    [ROW.replace('0, GPU-1', 'x, GPU-1'), /index is "x", not an integer/],
    [ROW.replace('24564', '24564 W'), /memory.total is "24564 W", not a number/],
    [ROW.replace('GPU-1', '[N/A]'), /has no uuid/],
    ['index, uuid, name\n', /header names other fields/],
  ]
  for (const [text, re] of cases) {
    assert.throws(
      () => parseGpuCsv(text),
      (e) => isAppError(e, 'GPU_SMI_FAILED') && re.test(e.message),
      text,
    )
  }
})

test('parseAppsCsv: empty list, N/A memory, comma in a process name', () => {
  assert.deepEqual(parseAppsCsv(''), [])
  assert.deepEqual(parseAppsCsv('No running processes found\n'), [])
  assert.deepEqual(parseAppsCsv('GPU-1, 12, [N/A], C:\\a, b.exe\r\nGPU-1, 13, 2566, /bin/x\n'), [
    { gpuUuid: 'GPU-1', pid: 12, processName: 'C:\\a, b.exe', usedMemoryBytes: null },
    { gpuUuid: 'GPU-1', pid: 13, processName: '/bin/x', usedMemoryBytes: 2566 * 1048576 },
  ])
})
