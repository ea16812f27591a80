import { Gauge, type Registry } from 'prom-client'
import type { GpuReading, GpuSnapshot } from './types.js'

// Names and labels are the public contract (README: GPU collector, doctor and capacity planning);
// OpenTelemetry `hw.gpu.*` semantic conventions in Prometheus form. Units follow the
// nvidia_gpu_exporter conversions (https://github.com/utkuozdemir/nvidia_gpu_exporter):
// MiB x 1048576 -> bytes, % x 0.01 -> ratio, W -> watts.
const GPU_LABELS = ['gpu', 'hw_id', 'hw_name'] as const
const PROCESS_LABELS = ['gpu', 'hw_id', 'pid', 'process_name'] as const

type GpuGauge = Gauge<(typeof GPU_LABELS)[number]>

interface GpuSeries {
  name: string
  help: string
  value: (g: GpuReading) => number | null
}

const SERIES: readonly GpuSeries[] = [
  {
    name: 'hw_gpu_memory_usage_bytes',
    help: 'GPU memory allocated by processes (nvidia-smi memory.used), bytes.',
    value: (g) => g.memoryUsedBytes,
  },
  {
    name: 'hw_gpu_memory_limit_bytes',
    help: 'Total GPU memory (nvidia-smi memory.total), bytes.',
    value: (g) => g.memoryTotalBytes,
  },
  {
    name: 'hw_gpu_memory_utilization_ratio',
    help: 'Fraction of GPU memory in use: memory.used / memory.total (capacity, not bandwidth).',
    value: (g) => g.memoryUsedRatio,
  },
  {
    name: 'hw_gpu_utilization_ratio',
    help: 'Fraction of time one or more kernels ran (nvidia-smi utilization.gpu); absent on MIG-enabled GPUs.',
    value: (g) => g.utilizationRatio,
  },
  {
    name: 'hw_gpu_temperature_celsius',
    help: 'GPU core temperature (nvidia-smi temperature.gpu), degrees Celsius.',
    value: (g) => g.temperatureCelsius,
  },
  {
    name: 'hw_gpu_power_draw_watts',
    help: 'Board power draw (nvidia-smi power.draw; a 1 s average on Ampere and newer), watts.',
    value: (g) => g.powerDrawWatts,
  },
]

/** Bounded so a host with hundreds of short-lived CUDA processes cannot blow up cardinality. */
export const MAX_PROCESS_SERIES = 10
const MAX_PROCESS_NAME_CHARS = 120

export interface GpuMetrics {
  /** Replaces every GPU series with the snapshot's; undefined (a failed read) removes them all. */
  update(snapshot: GpuSnapshot | undefined): void
  unregister(): void
}

export function registerGpuMetrics(
  registry: Registry,
  maxProcesses = MAX_PROCESS_SERIES,
): GpuMetrics {
  const gauges = SERIES.map(
    (s) =>
      [
        s,
        new Gauge({ name: s.name, help: s.help, labelNames: GPU_LABELS, registers: [registry] }),
      ] as [GpuSeries, GpuGauge],
  )
  const up = new Gauge({
    name: 'inferwatch_gpu_collector_up',
    help: '1 when the last nvidia-smi read succeeded, else 0 (then the hw_gpu_* series are absent).',
    registers: [registry],
  })
  const processes = new Gauge({
    name: 'inferwatch_gpu_process_memory_bytes',
    help: `GPU memory held per process (nvidia-smi --query-compute-apps), the ${maxProcesses} largest; only when gpu.processes is on.`,
    labelNames: PROCESS_LABELS,
    registers: [registry],
  })
  up.set(0)
  return {
    update(snapshot) {
      // Synchronous reset + set: a scrape never sees a half-updated gauge.
      for (const [, gauge] of gauges) gauge.reset()
      processes.reset()
      up.set(snapshot ? 1 : 0)
      if (!snapshot) return
      for (const g of snapshot.gpus) {
        const labels = { gpu: String(g.index), hw_id: g.uuid, hw_name: g.name }
        for (const [series, gauge] of gauges) {
          const v = series.value(g)
          if (v !== null) gauge.set(labels, v)
        }
      }
      const byUuid = new Map(snapshot.gpus.map((g) => [g.uuid, g.index]))
      const top = (snapshot.processes ?? [])
        .filter((p) => p.usedMemoryBytes !== null)
        .sort((a, b) => (b.usedMemoryBytes ?? 0) - (a.usedMemoryBytes ?? 0))
        .slice(0, maxProcesses)
      for (const p of top) {
        processes.set(
          {
            gpu: String(byUuid.get(p.gpuUuid) ?? ''),
            hw_id: p.gpuUuid,
            pid: String(p.pid),
            process_name: p.processName.slice(0, MAX_PROCESS_NAME_CHARS),
          },
          p.usedMemoryBytes ?? 0,
        )
      }
    },
    unregister() {
      for (const [series] of gauges) registry.removeSingleMetric(series.name)
      registry.removeSingleMetric('inferwatch_gpu_collector_up')
      registry.removeSingleMetric('inferwatch_gpu_process_memory_bytes')
    },
  }
}
