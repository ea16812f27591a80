// The simulated card behind `gpu.nvidiaSmi(args)`: prints what nvidia-smi prints for the
// collector's two queries (src/gpu/query.ts; real output in src/gpu/testdata/h200-*.csv): one CSV
// line per GPU in the order of the requested fields, `nounits` without units, `noheader` without
// the header line. Memory used = the engine's reservation (gpu_memory_utilization x memory.total,
// plus about 0.5 GiB of CUDA context) while it is up, plus any foreign process's memory.
// Utilization and power follow the batch. Fields and units: https://docs.nvidia.com/deploy/nvidia-smi/index.html
import type { GpuProfile } from '../../plan/index.js'

const MIB = 1048576
const CUDA_CONTEXT_MIB = 512

interface CardFacts {
  smiName: string
  idleW: number
  limitW: number
}

// nvidia-smi `name` strings and board power limits from the vendor spec sheets; idle draw of the
// H200 from the capture in src/gpu/testdata, the others typical readings.
const CARDS: Record<string, CardFacts> = {
  'rtx-4090d': { smiName: 'NVIDIA GeForce RTX 4090 D', idleW: 22, limitW: 425 },
  'rtx-4090': { smiName: 'NVIDIA GeForce RTX 4090', idleW: 22, limitW: 450 },
  l40s: { smiName: 'NVIDIA L40S', idleW: 35, limitW: 350 },
  'a100-40gb': { smiName: 'NVIDIA A100-SXM4-40GB', idleW: 55, limitW: 400 },
  'a100-80gb': { smiName: 'NVIDIA A100-SXM4-80GB', idleW: 60, limitW: 400 },
  'h100-80gb': { smiName: 'NVIDIA H100 80GB HBM3', idleW: 70, limitW: 700 },
  h200: { smiName: 'NVIDIA H200', idleW: 134, limitW: 700 },
}

export interface GpuLoad {
  up: boolean
  /** Sequences in the step executing now (0: idle). */
  batch: number
  /** 0..1 */
  kvUsage: number
}

export interface SimGpu {
  nvidiaSmi(args: readonly string[]): string
  setForeignBytes(bytes: number): void
  /** memory.used in bytes, as nvidia-smi would print it (whole MiB). */
  memoryUsedBytes(): number
  engineBytes(): number
}

export function createSimGpu(
  profile: GpuProfile,
  gpuMemoryUtilization: number,
  load: () => GpuLoad,
  enginePid: number,
): SimGpu {
  const card = CARDS[profile.id] ?? { smiName: `NVIDIA ${profile.name}`, idleW: 50, limitW: 400 }
  const totalMiB = Math.round(profile.memoryBytes / MIB)
  const engineMiB = Math.round(totalMiB * gpuMemoryUtilization) + CUDA_CONTEXT_MIB
  let foreignMiB = 0
  const uuid = `GPU-5e1f0c2a-7d3b-4c9e-8a61-${Buffer.from(profile.id).toString('hex').slice(0, 12).padEnd(12, '0')}`

  const engineUsedMiB = () => (load().up ? engineMiB : 0)
  const usedMiB = () => Math.min(totalMiB, engineUsedMiB() + foreignMiB)

  const gpuFields = (): Record<string, [string, string]> => {
    const l = load()
    const busy = l.up && l.batch > 0
    const intensity = busy ? Math.min(1, 0.6 + l.batch / 64) : 0
    const power = card.idleW + (card.limitW - card.idleW) * intensity
    return {
      index: ['0', ''],
      uuid: [uuid, ''],
      'pci.bus_id': ['00000000:01:00.0', ''],
      driver_version: ['580.159.04', ''],
      'memory.total': [String(totalMiB), ' MiB'],
      'memory.used': [String(usedMiB()), ' MiB'],
      'utilization.gpu': [busy ? '100' : '0', ' %'],
      'utilization.memory': [busy ? String(Math.round(20 + 40 * l.kvUsage)) : '0', ' %'],
      'temperature.gpu': [String(Math.round(40 + 20 * intensity)), ''],
      'power.draw': [power.toFixed(2), ' W'],
      'power.limit': [card.limitW.toFixed(2), ' W'],
      'mig.mode.current': ['Disabled', ''],
      name: [card.smiName, ''],
    }
  }
  const units: Record<string, string> = {
    'memory.total': ' [MiB]',
    'memory.used': ' [MiB]',
    'utilization.gpu': ' [%]',
    'utilization.memory': ' [%]',
    'power.draw': ' [W]',
    'power.limit': ' [W]',
    used_gpu_memory: ' [MiB]',
  }

  function csv(fields: string[], rows: Record<string, [string, string]>[], format: string) {
    const opts = format.split(',')
    const noUnits = opts.includes('nounits')
    const lines: string[] = []
    if (!opts.includes('noheader'))
      lines.push(fields.map((f) => (noUnits ? f : f + (units[f] ?? ''))).join(', '))
    for (const row of rows)
      lines.push(
        fields
          .map((f) => {
            const cell = row[f] as [string, string]
            return noUnits ? cell[0] : cell[0] + cell[1]
          })
          .join(', '),
      )
    return lines.length ? `${lines.join('\n')}\n` : ''
  }

  function fail(message: string, code: number): never {
    throw Object.assign(new Error(message), { code, stdout: message, stderr: '' })
  }

  return {
    nvidiaSmi(args) {
      const arg = (prefix: string) => args.find((a) => a.startsWith(prefix))?.slice(prefix.length)
      const format = arg('--format=') ?? 'csv'
      if (!format.startsWith('csv')) fail(`Invalid combination of input arguments.`, 2)
      const gpuQuery = arg('--query-gpu=')
      const appsQuery = arg('--query-compute-apps=')
      if (gpuQuery !== undefined) {
        const fields = gpuQuery.split(',')
        const row = gpuFields()
        for (const f of fields)
          if (!(f in row)) fail(`Field "${f}" is not a valid field to query.`, 2)
        return csv(fields, [row], format)
      }
      if (appsQuery !== undefined) {
        const fields = appsQuery.split(',')
        const app = (pid: number, mib: number, name: string): Record<string, [string, string]> => ({
          gpu_uuid: [uuid, ''],
          pid: [String(pid), ''],
          used_gpu_memory: [String(mib), ' MiB'],
          process_name: [name, ''],
        })
        const rows: Record<string, [string, string]>[] = []
        if (engineUsedMiB() > 0) rows.push(app(enginePid, engineUsedMiB() - 9, 'python3'))
        if (foreignMiB > 0) rows.push(app(enginePid + 1000, foreignMiB, 'other-process'))
        for (const f of fields)
          if (!(f in app(0, 0, ''))) fail(`Field "${f}" is not a valid field to query.`, 2)
        return csv(fields, rows, format)
      }
      fail('simulated nvidia-smi answers only --query-gpu and --query-compute-apps', 2)
    },
    setForeignBytes(bytes) {
      foreignMiB = Math.max(0, Math.round(bytes / MIB))
    },
    memoryUsedBytes: () => usedMiB() * MIB,
    engineBytes: () => engineMiB * MIB,
  }
}
