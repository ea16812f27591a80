// The exact nvidia-smi queries the collector runs (src/gpu/testdata/QUERY.txt holds the same two
// lines; a test keeps them in step). Every field exists since driver R450
// (https://docs.nvidia.com/deploy/nvidia-smi/index.html), so one unknown field cannot make the
// whole query fail. `name` and `process_name` come LAST: the CSV has no quoting (see
// testdata/h200-*.csv), so a comma inside a name is rejoined from the extra cells.

export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'pci.bus_id',
  'driver_version',
  'memory.total',
  'memory.used',
  'utilization.gpu',
  'utilization.memory',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'mig.mode.current',
  'name',
] as const

export const APPS_QUERY_FIELDS = ['gpu_uuid', 'pid', 'used_gpu_memory', 'process_name'] as const

export type GpuQueryField = (typeof GPU_QUERY_FIELDS)[number]
export type AppsQueryField = (typeof APPS_QUERY_FIELDS)[number]

/** argv for `nvidia-smi` (no shell): one line per GPU, no header, no units. */
export function gpuQueryArgs(): string[] {
  return [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits']
}

export function appsQueryArgs(): string[] {
  return [`--query-compute-apps=${APPS_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits']
}
