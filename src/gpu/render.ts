import type { GpuReading, GpuSnapshot } from './types.js'

const GIB = 1024 ** 3
const NA = 'n/a'

function gib(bytes: number | null): string {
  return bytes === null ? NA : (bytes / GIB).toFixed(1)
}

function pct(ratio: number | null): string {
  return ratio === null ? NA : `${(ratio * 100).toFixed(0)} %`
}

function memory(g: GpuReading): string {
  const used = gib(g.memoryUsedBytes)
  const total = gib(g.memoryTotalBytes)
  const share = g.memoryUsedRatio === null ? '' : ` (${(g.memoryUsedRatio * 100).toFixed(1)} %)`
  return `${used} / ${total} GiB${share}`
}

function power(g: GpuReading): string {
  const draw = g.powerDrawWatts === null ? NA : `${g.powerDrawWatts.toFixed(0)} W`
  return g.powerLimitWatts === null ? draw : `${draw} / ${g.powerLimitWatts.toFixed(0)} W`
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  )
}

/** The `inferwatch gpu` table: one line per GPU, then the processes when they were asked for. */
export function renderGpuTable(snapshot: GpuSnapshot): string {
  if (snapshot.gpus.length === 0) return 'nvidia-smi answered but lists no GPU\n'
  const rows = [['GPU', 'NAME', 'MEMORY USED / TOTAL', 'UTIL', 'TEMP', 'POWER']]
  for (const g of snapshot.gpus) {
    const util = g.utilizationRatio === null && g.migEnabled ? 'n/a (MIG)' : pct(g.utilizationRatio)
    const temp = g.temperatureCelsius === null ? NA : `${g.temperatureCelsius} C`
    rows.push([String(g.index), g.name, memory(g), util, temp, power(g)])
  }
  const lines = table(rows)
  const driver = snapshot.gpus[0]?.driverVersion
  if (driver) lines.push(`driver ${driver}`)
  if (snapshot.processes) {
    lines.push('')
    if (snapshot.processes.length === 0) lines.push('no process holds GPU memory')
    else {
      const byUuid = new Map(snapshot.gpus.map((g) => [g.uuid, String(g.index)]))
      const procs = [...snapshot.processes].sort(
        (a, b) => (b.usedMemoryBytes ?? -1) - (a.usedMemoryBytes ?? -1),
      )
      const prow = [['GPU', 'PID', 'MEMORY', 'PROCESS']]
      for (const p of procs) {
        const mem = p.usedMemoryBytes === null ? NA : `${gib(p.usedMemoryBytes)} GiB`
        prow.push([byUuid.get(p.gpuUuid) ?? '?', String(p.pid), mem, p.processName])
      }
      lines.push(...table(prow))
    }
  } else if (snapshot.processesError) {
    lines.push('', `processes unavailable: ${snapshot.processesError}`)
  }
  return `${lines.join('\n')}\n`
}
