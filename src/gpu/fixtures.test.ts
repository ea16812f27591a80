import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { listSharedFixtures, REPO_ROOT, SHARED_SKIP, sharedFixture } from '../testing/index.js'
import {
  commandFields,
  createStandIn,
  parseCapture,
  projectCapture,
} from '../testing/nvidia-smi-stand-in.js'
import { APPS_QUERY_FIELDS, createGpuCollector, GPU_QUERY_FIELDS } from './index.js'

const MIB = 1048576
const TESTDATA = join(REPO_ROOT, 'src/gpu/testdata')

// Expected values computed from the raw cell independently of the parser: a number with an
// optional unit, or absent for every unavailable marker in the captures.
function expected(raw: string | undefined, factor: number): number | undefined {
  if (raw === undefined) return undefined
  if (raw === '' || /^\[.*\]$/.test(raw) || raw === 'N/A') return undefined
  const m = /^([\d.]+)(?: (MiB|%|W))?$/.exec(raw)
  assert.ok(m, `unexpected cell ${JSON.stringify(raw)} in a capture`)
  return Number(m[1]) * factor
}

async function valuesOf(registry: Registry, name: string): Promise<Map<string, number>> {
  const metric = registry.getSingleMetric(name)
  assert.ok(metric, `${name} is registered`)
  const got = await metric.get()
  return new Map(got.values.map((v) => [String(v.labels.gpu), v.value]))
}

const CHECKS: [metric: string, field: string, factor: number][] = [
  ['hw_gpu_memory_usage_bytes', 'memory.used', MIB],
  ['hw_gpu_memory_limit_bytes', 'memory.total', MIB],
  ['hw_gpu_utilization_ratio', 'utilization.gpu', 0.01],
  ['hw_gpu_temperature_celsius', 'temperature.gpu', 1],
  ['hw_gpu_power_draw_watts', 'power.draw', 1],
]

/** Runs the collector against a stand-in printing `gpuOut`; checks every series against the capture. */
async function checkGpuCapture(
  t: import('node:test').TestContext,
  rows: string[][],
  fields: string[],
  gpuOut: string,
  exit = 0,
): Promise<Registry> {
  const smi = await createStandIn({ gpuOut, gpuExit: exit })
  const registry = new Registry()
  const collector = createGpuCollector({ registry, nvidiaSmiPath: smi.path, timeoutMs: 5000 })
  t.after(async () => {
    await collector.close()
    await smi.remove()
  })
  const snapshot = await collector.readOnce()
  assert.equal(snapshot.gpus.length, rows.length)
  assert.equal((await valuesOf(registry, 'inferwatch_gpu_collector_up')).get('undefined'), 1)
  for (const [metric, field, factor] of CHECKS) {
    const got = await valuesOf(registry, metric)
    rows.forEach((row, i) => {
      const at = fields.indexOf(field)
      const want = expected(at >= 0 ? row[at] : undefined, factor)
      const index = fields.includes('index') ? row[fields.indexOf('index')] : String(i)
      const have = got.get(String(index))
      if (want === undefined) assert.equal(have, undefined, `${metric} must be absent`)
      else
        assert.ok(
          have !== undefined && Math.abs(have - want) < 1e-9 * Math.max(1, want),
          `${metric}: ${have} vs ${want}`,
        )
    })
  }
  return registry
}

/** Drops the `exit=N` trailer the capture script appends; returns it as the exit status. */
function splitExit(text: string): { body: string; exit: number } {
  const m = /(?:^|\n)exit=(\d+)\s*$/.exec(text)
  return m
    ? { body: text.slice(0, m.index + (m[0].startsWith('\n') ? 1 : 0)), exit: Number(m[1]) }
    : { body: text, exit: 0 }
}

const sharedCaptures = listSharedFixtures('nvidia-smi', '.csv').filter(
  (f) => !f.endsWith('__query-compute-apps.csv'),
)

/** The capture's field list: its own command, else a sibling's ("same query as the [N/A] sample"). */
function captureFields(file: string): string[] | undefined {
  const own = commandFields(readFileSync(`${file}.source.txt`, 'utf8'))
  if (own) return own
  const prefix = basename(file).split('__').slice(0, 2).join('__')
  for (const sibling of sharedCaptures.filter((f) => basename(f).startsWith(prefix))) {
    const fields = commandFields(readFileSync(`${sibling}.source.txt`, 'utf8'))
    if (fields) return fields
  }
  return undefined
}

test('every shared --query-gpu capture, with and without units', {
  skip: sharedCaptures.length ? false : SHARED_SKIP,
}, async (t) => {
  assert.ok(sharedCaptures.length >= 10, 'the shared folder holds the nge and issue captures')
  for (const file of sharedCaptures) {
    await t.test(basename(file), async (t) => {
      const capture = parseCapture(readFileSync(file, 'utf8'), captureFields(file))
      assert.ok(
        capture.rows.length >= 1 && capture.fields.includes('temperature.gpu'),
        'a real field list and at least one GPU row',
      )
      for (const nounits of [true, false]) {
        await checkGpuCapture(
          t,
          capture.rows,
          capture.fields,
          projectCapture(capture, GPU_QUERY_FIELDS, nounits),
        )
      }
    })
  }
})

test('agrees with the nvidia_gpu_exporter golden .metrics after unit conversion', {
  skip: sharedCaptures.length ? false : SHARED_SKIP,
}, async (t) => {
  const goldens = listSharedFixtures('nvidia-smi', '.metrics')
  assert.ok(goldens.length >= 2)
  const pairs: [string, string][] = [
    ['nvidia_smi_memory_used_bytes', 'hw_gpu_memory_usage_bytes'],
    ['nvidia_smi_memory_total_bytes', 'hw_gpu_memory_limit_bytes'],
    ['nvidia_smi_utilization_gpu_ratio', 'hw_gpu_utilization_ratio'],
    ['nvidia_smi_temperature_gpu', 'hw_gpu_temperature_celsius'],
    ['nvidia_smi_power_draw_watts', 'hw_gpu_power_draw_watts'],
  ]
  for (const golden of goldens) {
    // nge-expected__rtx-4080-super__595.71.05__load.metrics <-> nge__linux-x86_64__nvidia-geforce-rtx-4080-super__595.71.05__load__query-gpu.csv
    const [, gpu, driver, state] = basename(golden, '.metrics').split('__')
    const csv = sharedFixture(
      `nvidia-smi/nge__linux-x86_64__nvidia-geforce-${gpu}__${driver}__${state}__query-gpu.csv`,
    )
    assert.ok(csv && existsSync(csv), `capture for ${basename(golden)}`)
    await t.test(basename(golden), async (t) => {
      const capture = parseCapture(readFileSync(csv, 'utf8'))
      const registry = await checkGpuCapture(
        t,
        capture.rows,
        capture.fields,
        projectCapture(capture, GPU_QUERY_FIELDS, true),
      )
      const text = readFileSync(golden, 'utf8')
      for (const [theirs, ours] of pairs) {
        const m = new RegExp(`^${theirs}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)
        assert.ok(m?.[1], `${theirs} in golden`)
        const have = (await valuesOf(registry, ours)).get('0')
        assert.ok(
          have !== undefined && Math.abs(have - Number(m[1])) < 1e-9 * Math.max(1, have),
          `${ours}=${have} vs ${theirs}=${m[1]}`,
        )
      }
    })
  }
})

test('every shared --query-compute-apps capture exports bounded per-process memory', {
  skip: sharedCaptures.length ? false : SHARED_SKIP,
}, async (t) => {
  const apps = listSharedFixtures('nvidia-smi', '__query-compute-apps.csv')
  assert.ok(apps.length >= 5)
  const gpuOut = projectCapture(
    {
      fields: ['index', 'uuid', 'name'],
      rows: [['0', 'GPU-00000000-0000-0000-0000-000000000000', 'x']],
    },
    GPU_QUERY_FIELDS,
    true,
  )
  for (const file of apps) {
    await t.test(basename(file), async (t) => {
      const capture = parseCapture(readFileSync(file, 'utf8'))
      const smi = await createStandIn({
        gpuOut,
        appsOut: projectCapture(capture, APPS_QUERY_FIELDS, true),
      })
      const registry = new Registry()
      const collector = createGpuCollector({ registry, nvidiaSmiPath: smi.path, processes: true })
      t.after(async () => {
        await collector.close()
        await smi.remove()
      })
      const snapshot = await collector.readOnce()
      assert.equal(snapshot.processes?.length, capture.rows.length)
      const mem = capture.fields.indexOf('used_gpu_memory')
      const numeric = capture.rows.map((r) => expected(r[mem], MIB)).filter((v) => v !== undefined)
      const got = await registry.getSingleMetric('inferwatch_gpu_process_memory_bytes')?.get()
      assert.equal(got?.values.length, Math.min(10, numeric.length))
      const top = numeric.sort((a, b) => b - a)[0]
      if (top !== undefined) assert.equal(Math.max(...(got?.values ?? []).map((v) => v.value)), top)
    })
  }
})

function classify(text: string): 'gpu' | 'apps' | undefined {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '' && !/^exit=\d+$/.test(l))
  if (line === undefined) return 'apps' // an empty process list
  const cells = line.split(',').map((c) => c.trim().replace(/\s*\[[^\]]*\]$/, ''))
  if (cells[0] === GPU_QUERY_FIELDS[0] || cells.length === GPU_QUERY_FIELDS.length) return 'gpu'
  if (cells[0] === APPS_QUERY_FIELDS[0] || cells.length === APPS_QUERY_FIELDS.length) return 'apps'
  return undefined
}

test('every src/gpu/testdata/*.csv in the QUERY.txt field order (incl. real H200 captures)', async (t) => {
  const files = readdirSync(TESTDATA)
    .filter((f) => f.endsWith('.csv'))
    .sort()
  assert.ok(files.length >= 3)
  for (const f of files) {
    const { body, exit } = splitExit(readFileSync(join(TESTDATA, f), 'utf8'))
    const kind = classify(body)
    await t.test(f, async (t) => {
      assert.ok(kind, `${f} matches neither query field list`)
      if (kind === 'gpu') {
        const capture = parseCapture(body, [...GPU_QUERY_FIELDS])
        await checkGpuCapture(t, capture.rows, [...GPU_QUERY_FIELDS], body, exit)
      } else {
        const capture = parseCapture(body, [...APPS_QUERY_FIELDS])
        const gpuOut = readFileSync(join(TESTDATA, 'two-gpus.csv'), 'utf8')
        const smi = await createStandIn({ gpuOut, appsOut: body, appsExit: exit })
        const collector = createGpuCollector({
          registry: new Registry(),
          nvidiaSmiPath: smi.path,
          processes: true,
        })
        t.after(async () => {
          await collector.close()
          await smi.remove()
        })
        const snapshot = await collector.readOnce()
        assert.equal(snapshot.processesError, undefined)
        assert.equal(snapshot.processes?.length, capture.rows.length)
        for (const [i, p] of (snapshot.processes ?? []).entries()) {
          assert.equal(String(p.pid), capture.rows[i]?.[1])
          assert.equal(p.usedMemoryBytes ?? undefined, expected(capture.rows[i]?.[2], MIB))
        }
      }
    })
  }
})

test('QUERY.txt is the field list the collector runs', () => {
  const [gpuLine, appsLine] = readFileSync(join(TESTDATA, 'QUERY.txt'), 'utf8').split('\n')
  assert.equal(gpuLine, GPU_QUERY_FIELDS.join(','))
  assert.equal(appsLine, APPS_QUERY_FIELDS.join(','))
})
