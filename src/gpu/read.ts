import { type ExecFileFn, nodeExecFile, runSmi } from './_exec.js'
import { parseAppsCsv, parseGpuCsv } from './_parse.js'
import { appsQueryArgs, gpuQueryArgs } from './query.js'
import type { GpuSnapshot } from './types.js'

export interface ReadGpuOptions {
  nvidiaSmiPath?: string
  timeoutMs?: number
  /** Also run `--query-compute-apps` (which processes hold GPU memory). */
  processes?: boolean
  execFile?: ExecFileFn
  now?: () => number
  signal?: AbortSignal
}

// 64 GPUs × 13 short fields fit in a few KiB; more than this is garbage, not data.
const MAX_OUTPUT_BYTES = 1024 * 1024

/**
 * One nvidia-smi read. Throws AppError GPU_SMI_FAILED when nvidia-smi is missing, hangs, fails or
 * prints garbage. A failing process query does not fail the read: `processes` is then absent.
 */
export async function readGpuSnapshot(options: ReadGpuOptions = {}): Promise<GpuSnapshot> {
  const exec = options.execFile ?? nodeExecFile
  const path = options.nvidiaSmiPath ?? 'nvidia-smi'
  const execOptions = {
    timeoutMs: options.timeoutMs ?? 4000,
    maxBufferBytes: MAX_OUTPUT_BYTES,
    ...(options.signal ? { signal: options.signal } : {}),
  }
  const now = options.now ?? Date.now
  const gpus = parseGpuCsv(await runSmi(exec, path, gpuQueryArgs(), execOptions))
  const snapshot: GpuSnapshot = { takenAtMs: now(), gpus }
  if (options.processes) {
    try {
      snapshot.processes = parseAppsCsv(await runSmi(exec, path, appsQueryArgs(), execOptions))
    } catch (err) {
      snapshot.processesError = err instanceof Error ? err.message : String(err)
    }
  }
  return snapshot
}
