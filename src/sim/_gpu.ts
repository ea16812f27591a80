// The simulated card as nvidia-smi prints it (https://docs.nvidia.com/deploy/nvidia-smi/, and the
// real H200 captures in src/gpu/testdata): `--query-gpu=` / `--query-compute-apps=` with
// `--format=csv[,noheader][,nounits]` (values joined by ", ", header names carrying units, values
// too unless nounits, unavailable ones "[N/A]"), `-L` and `--version`. Memory is what the
// processes hold (the engine's pre-allocation, another process's) plus the 9 MiB the driver adds
// once a context exists (as in every H200 capture); utilization, power and temperature follow
// the engine's steps.
import type { ActivityMeter } from './_activity.js'
import type { CardFacts } from './_cards.js'

const MIB = 1048576
/** The driver's own share of memory.used once any process holds a context. */
const DRIVER_MIB = 9
/** Seconds for the temperature to close 63 % of the gap to its target. */
const THERMAL_TAU_S = 20

export interface GpuProcessView {
  pid: number
  name: string
  bytes: number
}

export interface SimGpuOptions {
  card: CardFacts
  totalBytes: number
  uuid: string
  pciBusId: string
  nowS: () => number
  activity: ActivityMeter
  /** The engine's process on the card (undefined while it is dead). */
  engine: () => GpuProcessView | undefined
}

export interface SimGpu {
  nvidiaSmi(args: readonly string[]): string
  setForeignBytes(bytes: number): void
  /** Bytes as the next nvidia-smi would show them (MiB-rounded, like nvidia-smi). */
  memory(): { totalBytes: number; usedBytes: number; processes: GpuProcessView[] }
}

/** A failed run, shaped like node's execFile error (exit code, what nvidia-smi printed). */
export class SmiExitError extends Error {
  constructor(
    readonly code: number,
    readonly stdout: string,
  ) {
    super(`Command failed: nvidia-smi (exit ${code}): ${stdout.trim()}`)
  }
}

interface Reading {
  totalMib: number
  usedMib: number
  busy: number
  memoryBusy: number
  watts: number
  celsius: number
}

type Unit = 'MiB' | '%' | 'W' | ''
interface Field {
  unit: Unit
  value: (r: Reading) => string
}

export function createSimGpu(o: SimGpuOptions): SimGpu {
  const { card } = o
  let foreignBytes = 0
  const foreignPid = 4100 + Math.floor(Math.random() * 800)
  let celsius = card.idleCelsius
  let thermalAtS = o.nowS()

  const processes = (): GpuProcessView[] => {
    const list: GpuProcessView[] = []
    const e = o.engine()
    if (e && e.bytes > 0) list.push(e)
    if (foreignBytes > 0) list.push({ pid: foreignPid, name: 'python3', bytes: foreignBytes })
    return list
  }
  const mibOf = (b: number) => Math.round(b / MIB)

  const read = (): Reading => {
    const now = o.nowS()
    const procs = processes()
    const totalMib = mibOf(o.totalBytes)
    const held = procs.reduce((s, p) => s + mibOf(p.bytes), 0)
    const usedMib = Math.min(totalMib, held + (procs.length > 0 ? DRIVER_MIB : 0))
    const a = o.engine() ? o.activity.read(now, 1) : { busy: 0, compute: 0, memory: 0 }
    const load = 0.5 * a.busy + 0.5 * a.compute
    const watts = card.idleWatts + (card.powerLimitWatts - card.idleWatts) * Math.min(1, load)
    const target = card.idleCelsius + (card.loadCelsius - card.idleCelsius) * Math.min(1, load)
    const dt = Math.max(0, now - thermalAtS)
    celsius += (target - celsius) * (1 - Math.exp(-dt / THERMAL_TAU_S))
    thermalAtS = now
    return { totalMib, usedMib, busy: a.busy, memoryBusy: a.memory, watts, celsius }
  }

  const pct = (x: number) => String(Math.round(x * 100))
  const gpuFields: Record<string, Field> = {
    index: { unit: '', value: () => '0' },
    count: { unit: '', value: () => '1' },
    uuid: { unit: '', value: () => o.uuid },
    name: { unit: '', value: () => card.name },
    'pci.bus_id': { unit: '', value: () => o.pciBusId },
    driver_version: { unit: '', value: () => card.driverVersion },
    'memory.total': { unit: 'MiB', value: (r) => String(r.totalMib) },
    'memory.used': { unit: 'MiB', value: (r) => String(r.usedMib) },
    'memory.free': { unit: 'MiB', value: (r) => String(r.totalMib - r.usedMib) },
    'memory.reserved': { unit: 'MiB', value: () => '0' },
    'utilization.gpu': { unit: '%', value: (r) => pct(r.busy) },
    'utilization.memory': { unit: '%', value: (r) => pct(r.memoryBusy) },
    'temperature.gpu': { unit: '', value: (r) => String(Math.round(r.celsius)) },
    'power.draw': { unit: 'W', value: (r) => r.watts.toFixed(2) },
    'power.draw.average': { unit: 'W', value: (r) => r.watts.toFixed(2) },
    'power.draw.instant': { unit: 'W', value: (r) => r.watts.toFixed(2) },
    'power.limit': { unit: 'W', value: () => card.powerLimitWatts.toFixed(2) },
    'mig.mode.current': { unit: '', value: () => card.mig },
    pstate: { unit: '', value: (r) => (r.busy > 0 || r.usedMib > 0 ? 'P0' : 'P8') },
    compute_mode: { unit: '', value: () => 'Default' },
    'fan.speed': { unit: '%', value: () => '[N/A]' },
  }
  const alias: Record<string, string> = {
    gpu_name: 'name',
    gpu_bus_id: 'pci.bus_id',
    gpu_uuid: 'uuid',
  }

  const invalid = (msg: string) =>
    new SmiExitError(2, `${msg}\nPlease run 'nvidia-smi -h' for help.\n`)

  const parseFormat = (args: readonly string[]) => {
    const f = args.find((a) => a.startsWith('--format='))
    if (!f) throw invalid("'--format=' switch is missing.")
    const parts = f.slice('--format='.length).split(',')
    if (!parts.includes('csv')) throw invalid(`"${f.slice(9)}" is not a valid format.`)
    return { header: !parts.includes('noheader'), units: !parts.includes('nounits') }
  }
  const fieldList = (args: readonly string[], flag: string) =>
    (args.find((a) => a.startsWith(`${flag}=`)) ?? '')
      .slice(flag.length + 1)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)

  const cell = (v: string, unit: Unit, units: boolean) =>
    units && unit && !v.startsWith('[') ? `${v} ${unit}` : v
  const headerOf = (names: string[], units: Unit[]) =>
    names.map((n, i) => (units[i] ? `${n} [${units[i]}]` : n)).join(', ')

  const queryGpu = (args: readonly string[]): string => {
    const names = fieldList(args, '--query-gpu')
    const fmt = parseFormat(args)
    const fields = names.map((n) => {
      const f = gpuFields[alias[n] ?? n]
      if (!f) throw invalid(`Field "${n}" is not a valid field to query.`)
      return f
    })
    const r = read()
    const line = fields.map((f) => cell(f.value(r), f.unit, fmt.units)).join(', ')
    const head = fmt.header
      ? `${headerOf(
          names,
          fields.map((f) => f.unit),
        )}\n`
      : ''
    return `${head}${line}\n`
  }

  const queryApps = (args: readonly string[]): string => {
    const names = fieldList(args, '--query-compute-apps')
    const fmt = parseFormat(args)
    const appFields: Record<string, { unit: Unit; value: (p: GpuProcessView) => string }> = {
      gpu_uuid: { unit: '', value: () => o.uuid },
      gpu_name: { unit: '', value: () => card.name },
      gpu_bus_id: { unit: '', value: () => o.pciBusId },
      pid: { unit: '', value: (p) => String(p.pid) },
      process_name: { unit: '', value: (p) => p.name },
      name: { unit: '', value: (p) => p.name },
      used_gpu_memory: { unit: 'MiB', value: (p) => String(mibOf(p.bytes)) },
      used_memory: { unit: 'MiB', value: (p) => String(mibOf(p.bytes)) },
    }
    const fields = names.map((n) => {
      const f = appFields[n]
      if (!f) throw invalid(`Field "${n}" is not a valid field to query.`)
      return f
    })
    const head = fmt.header
      ? `${headerOf(
          names,
          fields.map((f) => f.unit),
        )}\n`
      : ''
    const rows = processes().map(
      (p) => `${fields.map((f) => cell(f.value(p), f.unit, fmt.units)).join(', ')}\n`,
    )
    return head + rows.join('')
  }

  return {
    nvidiaSmi(args) {
      if (args.some((a) => a.startsWith('--query-gpu='))) return queryGpu(args)
      if (args.some((a) => a.startsWith('--query-compute-apps='))) return queryApps(args)
      if (args.length === 1 && (args[0] === '-L' || args[0] === '--list-gpus'))
        return `GPU 0: ${card.name} (UUID: ${o.uuid})\n`
      if (args.length === 1 && args[0] === '--version')
        return [
          `NVIDIA-SMI version  : ${card.driverVersion}`,
          `NVML version        : ${card.driverVersion.split('.').slice(0, 2).join('.')}`,
          `DRIVER version      : ${card.driverVersion}`,
          `CUDA Version        : ${card.cudaVersion}`,
          '',
        ].join('\n')
      throw invalid('Invalid combination of input arguments.')
    },
    setForeignBytes(bytes) {
      foreignBytes = Math.max(0, bytes)
    },
    memory() {
      const r = read()
      return { totalBytes: r.totalMib * MIB, usedBytes: r.usedMib * MIB, processes: processes() }
    },
  }
}
