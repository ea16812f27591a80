import { AppError } from '../shared/index.js'
import { APPS_QUERY_FIELDS, GPU_QUERY_FIELDS } from './query.js'
import type { GpuProcess, GpuReading } from './types.js'

// nvidia-smi CSV (`nvidia-smi --help-query-gpu`, testdata/h200-help-query-gpu.txt): one line per
// GPU, values joined by ", ", no quoting, header names carry units ("memory.used [MiB]"), `nounits`
// strips units from values only. Unavailable values seen in real captures (nvidia_gpu_exporter's,
// https://github.com/utkuozdemir/nvidia_gpu_exporter, and in GitHub issues such as
// https://github.com/enkore/i3pystatus/pull/776): "[N/A]", bare "N/A", "[Not Supported]",
// "[Requested functionality has been deprecated]", "[Function Not Found]",
// "[Insufficient Permissions]" and an empty cell. They all become null: the series is then
// absent, never 0. Anything else that is not the expected shape is garbage and rejects the read.

const MIB = 1048576
const NUMBER = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:\s*(MiB|%|W|C))?$/

export function isUnavailable(cell: string): boolean {
  const v = cell.trim()
  return v === '' || /^\[.*\]$/.test(v) || /^(n\/a|not supported|unknown|not available)$/i.test(v)
}

function garbage(detail: string): AppError {
  return new AppError(
    'GPU_SMI_FAILED',
    `nvidia-smi printed output inferwatch cannot read: ${detail}`,
    {
      hint: 'run `nvidia-smi` by hand: a driver/library mismatch or a broken install prints errors instead of values',
    },
  )
}

/** Splits nvidia-smi CSV into rows of trimmed cells; the last column absorbs extra commas. */
function splitRows(text: string, fields: readonly string[]): string[][] {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '')
  const rows: string[][] = []
  for (const [i, line] of lines.entries()) {
    const cells = line.split(',').map((c) => c.trim())
    if (i === 0 && isHeader(cells, fields)) continue
    if (cells.length < fields.length) {
      throw garbage(
        `line ${i + 1} has ${cells.length} values, expected ${fields.length}: ${clip(line)}`,
      )
    }
    const head = cells.slice(0, fields.length - 1)
    const last = cells.slice(fields.length - 1).join(', ')
    rows.push([...head, last])
  }
  return rows
}

/** `--format=csv` (with header) is accepted too; the header must name exactly our fields. */
function isHeader(cells: string[], fields: readonly string[]): boolean {
  const names = cells.map((c) => c.replace(/\s*\[[^\]]*\]$/, ''))
  if (names[0] !== fields[0]) return false
  if (names.length !== fields.length || names.some((n, i) => n !== fields[i])) {
    throw garbage(`header names other fields than asked: ${clip(cells.join(', '))}`)
  }
  return true
}

function clip(s: string): string {
  return JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}…` : s)
}

/** A number with an optional unit, or null when unavailable; throws on anything else. */
function parseNumber(cell: string, field: string, unit: string | undefined): number | null {
  if (isUnavailable(cell)) return null
  const m = NUMBER.exec(cell)
  if (!m || (m[2] !== undefined && m[2] !== unit))
    throw garbage(`${field} is ${clip(cell)}, not a number`)
  const n = Number(m[1])
  if (!Number.isFinite(n)) throw garbage(`${field} is ${clip(cell)}, not a number`)
  return n
}

function parseText(cell: string): string | null {
  return isUnavailable(cell) ? null : cell
}

function parseIndex(cell: string, field: string): number {
  if (!/^\d+$/.test(cell)) throw garbage(`${field} is ${clip(cell)}, not an integer`)
  return Number(cell)
}

function cellOf<F extends string>(row: string[], fields: readonly F[]): (f: F) => string {
  return (f) => row[fields.indexOf(f)] ?? ''
}

/** Parses `--query-gpu=GPU_QUERY_FIELDS --format=csv,noheader,nounits` (units and header tolerated). */
export function parseGpuCsv(text: string): GpuReading[] {
  const gpus: GpuReading[] = []
  for (const row of splitRows(text, GPU_QUERY_FIELDS)) {
    const c = cellOf(row, GPU_QUERY_FIELDS)
    const index = parseIndex(c('index'), 'index')
    const uuid = parseText(c('uuid'))
    const name = parseText(c('name'))
    if (!uuid) throw garbage(`GPU ${index} has no uuid`)
    if (gpus.some((g) => g.index === index || g.uuid === uuid)) {
      throw garbage(`GPU ${index} (${uuid}) is listed twice`)
    }
    const totalMib = parseNumber(c('memory.total'), 'memory.total', 'MiB')
    const usedMib = parseNumber(c('memory.used'), 'memory.used', 'MiB')
    const util = parseNumber(c('utilization.gpu'), 'utilization.gpu', '%')
    const memBusy = parseNumber(c('utilization.memory'), 'utilization.memory', '%')
    const mig = parseText(c('mig.mode.current'))
    gpus.push({
      index,
      uuid,
      name: name ?? 'unknown',
      pciBusId: parseText(c('pci.bus_id')),
      driverVersion: parseText(c('driver_version')),
      memoryTotalBytes: totalMib === null ? null : totalMib * MIB,
      memoryUsedBytes: usedMib === null ? null : usedMib * MIB,
      memoryUsedRatio:
        totalMib !== null && usedMib !== null && totalMib > 0 ? usedMib / totalMib : null,
      utilizationRatio: util === null ? null : util / 100,
      memoryBusyRatio: memBusy === null ? null : memBusy / 100,
      temperatureCelsius: parseNumber(c('temperature.gpu'), 'temperature.gpu', 'C'),
      powerDrawWatts: parseNumber(c('power.draw'), 'power.draw', 'W'),
      powerLimitWatts: parseNumber(c('power.limit'), 'power.limit', 'W'),
      migEnabled:
        mig === null
          ? null
          : /^enabled$/i.test(mig)
            ? true
            : /^disabled$/i.test(mig)
              ? false
              : null,
    })
  }
  return gpus.sort((a, b) => a.index - b.index)
}

/** Parses `--query-compute-apps=APPS_QUERY_FIELDS --format=csv,noheader,nounits`. */
export function parseAppsCsv(text: string): GpuProcess[] {
  if (/^\s*no running (compute )?processes found\s*$/i.test(text)) return []
  const out: GpuProcess[] = []
  for (const row of splitRows(text, APPS_QUERY_FIELDS)) {
    const c = cellOf(row, APPS_QUERY_FIELDS)
    const gpuUuid = parseText(c('gpu_uuid'))
    if (!gpuUuid) throw garbage('a process row has no gpu_uuid')
    const usedMib = parseNumber(c('used_gpu_memory'), 'used_gpu_memory', 'MiB')
    out.push({
      gpuUuid,
      pid: parseIndex(c('pid'), 'pid'),
      processName: parseText(c('process_name')) ?? 'unknown',
      usedMemoryBytes: usedMib === null ? null : usedMib * MIB,
    })
  }
  return out
}
