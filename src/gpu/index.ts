// GPU collector: nvidia-smi -> hw_gpu_* gauges, and one-shot snapshots for `inferwatch gpu` and
// `doctor`.
export type { ExecFileFn, ExecFileOptions, ExecFileResult } from './_exec.js'
export { createGpuCollector, type GpuCollector, type GpuCollectorOptions } from './collector.js'
export { APPS_QUERY_FIELDS, appsQueryArgs, GPU_QUERY_FIELDS, gpuQueryArgs } from './query.js'
export { type ReadGpuOptions, readGpuSnapshot } from './read.js'
export { renderGpuTable } from './render.js'
export type { GpuProcess, GpuReading, GpuSnapshot } from './types.js'
