// Hostile nvidia-smi output: mutations of real captures (cut and repeated rows, inserted garbage,
// stray bytes, huge cells). parseGpuCsv and parseAppsCsv give readings or GPU_SMI_FAILED saying
// what is wrong, never another error, and never take long.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { isAppError } from '../shared/index.js'
import { fuzz, hostileString, mutatedText, withinMs } from '../testing/fuzz.js'
import { listSharedFixtures, REPO_ROOT } from '../testing/index.js'
import { parseAppsCsv, parseGpuCsv } from './_parse.js'

const local = (name: string) => readFileSync(join(REPO_ROOT, 'src/gpu/testdata', name), 'utf8')
const shared = (pattern: RegExp) =>
  listSharedFixtures('nvidia-smi', '.csv')
    .filter((p) => pattern.test(p))
    .slice(0, 6)
    .map((p) => readFileSync(p, 'utf8'))

const INSERTS = [
  ',',
  ', ',
  '\n',
  '\r\n',
  '[N/A]',
  '[Not Supported]',
  ' MiB',
  ' %',
  'NaN',
  '-1',
  '1e400',
]

const cases = [
  {
    name: 'parseGpuCsv',
    parse: parseGpuCsv,
    bases: [
      local('h200-idle-query-gpu.csv'),
      local('h200-load-query-gpu-units.csv'),
      ...shared(/query-gpu\.csv$/),
    ],
  },
  {
    name: 'parseAppsCsv',
    parse: parseAppsCsv,
    bases: [
      local('apps.csv'),
      local('h200-load-query-compute-apps.csv'),
      ...shared(/compute-apps\.csv$/),
    ],
  },
]

for (const c of cases) {
  test(`${c.name}: readings or GPU_SMI_FAILED with the cause, quickly`, async () => {
    const outcomes = { parsed: 0, rejected: 0 }
    await fuzz(
      c.name,
      fc.property(
        fc.oneof({ weight: 5, arbitrary: mutatedText(c.bases, INSERTS) }, hostileString),
        (text) => {
          try {
            const out = withinMs(c.name, 500, () => c.parse(text))
            outcomes.parsed++
            assert.ok(Array.isArray(out))
            for (const row of out) {
              for (const v of Object.values(row)) {
                if (typeof v === 'number') assert.ok(Number.isFinite(v), `${JSON.stringify(row)}`)
              }
            }
          } catch (err) {
            if (!isAppError(err, 'GPU_SMI_FAILED')) throw err
            assert.ok(err.message.length > 10, err.message)
            outcomes.rejected++
          }
        },
      ),
      150,
    )
    assert.ok(outcomes.parsed > 0 && outcomes.rejected > 0, JSON.stringify(outcomes))
  })
}
