import { z } from 'zod'

// GPU collector keys (issue 4).
export const gpuShape = {
  gpu: z
    .strictObject({
      enabled: z.boolean().default(true),
      intervalMs: z.int().positive().default(5000),
      timeoutMs: z.int().positive().default(4000),
      nvidiaSmiPath: z.string().default('nvidia-smi'),
      processes: z.boolean().default(false),
    })
    .prefault({}),
}
