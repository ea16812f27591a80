import { z } from 'zod'

// GPU collector keys (README: GPU collector). The collector runs inside `proxy` when enabled; on a host
// without nvidia-smi it exports inferwatch_gpu_collector_up 0 and logs one line (set false to skip).
export const gpuShape = {
  gpu: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** How often nvidia-smi is read. */
      intervalMs: z.int().positive().default(5000),
      /** nvidia-smi is killed after this long (a hung driver must not stall the collector). */
      timeoutMs: z.int().positive().default(4000),
      nvidiaSmiPath: z.string().min(1).default('nvidia-smi'),
      /** Also export inferwatch_gpu_process_memory_bytes (nvidia-smi --query-compute-apps). */
      processes: z.boolean().default(false),
      /** Bound on the per-process series (the largest holders of GPU memory). */
      maxProcesses: z.int().positive().max(100).default(10),
    })
    .prefault({}),
}
