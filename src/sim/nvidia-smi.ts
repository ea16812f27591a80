import type { ExecFileFn } from '../gpu/index.js'
import { SmiExitError } from './_gpu.js'
import type { Simulator } from './simulator-types.js'

/** An ExecFileFn (src/gpu) that runs "nvidia-smi" against the simulator's card, so the GPU
 * collector reads it through its own parse code. */
export function simulatedNvidiaSmi(sim: Pick<Simulator, 'gpu'>): ExecFileFn {
  return async (_file, args, options) => {
    if (options.signal?.aborted)
      throw Object.assign(new Error('The operation was aborted'), { code: 'ABORT_ERR' })
    try {
      return { stdout: sim.gpu.nvidiaSmi(args), stderr: '' }
    } catch (err) {
      if (err instanceof SmiExitError)
        throw Object.assign(new Error(err.message), {
          code: err.code,
          stdout: err.stdout,
          stderr: '',
        })
      throw err
    }
  }
}
