import { loadConfig } from '../../config/index.js'
import { type GpuSnapshot, readGpuSnapshot, renderGpuTable } from '../../gpu/index.js'
import { boolFlag, positiveIntFlag, stringFlag } from '../_flags.js'
import type { Command } from '../command.js'

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

export const gpuCommand: Command = {
  name: 'gpu',
  summary: 'GPU memory, utilization, temperature and power from nvidia-smi',
  usage: 'inferwatch gpu [--once] [--json] [--processes] [--interval MS] [--nvidia-smi PATH]',
  options: {
    once: {
      type: 'boolean',
      description: 'print one snapshot and exit (default: refresh until Ctrl-C)',
    },
    json: {
      type: 'boolean',
      description: 'JSON instead of the table (one object per line when refreshing)',
    },
    processes: {
      type: 'boolean',
      description: 'also list the processes holding GPU memory (nvidia-smi --query-compute-apps)',
    },
    interval: {
      type: 'string',
      valueName: 'MS',
      description: 'refresh interval, ms (default gpu.intervalMs, 5000)',
    },
    timeout: {
      type: 'string',
      valueName: 'MS',
      description: 'kill nvidia-smi when it takes longer, ms (default gpu.timeoutMs, 4000)',
    },
    'nvidia-smi': {
      type: 'string',
      valueName: 'PATH',
      description: 'the nvidia-smi executable (default gpu.nvidiaSmiPath, found on PATH)',
    },
    config: {
      type: 'string',
      valueName: 'FILE',
      description: 'inferwatch.yaml to read the gpu.* keys from',
    },
  },
  details: [
    'Values nvidia-smi reports as unavailable ([N/A], [Not Supported], e.g. utilization on MIG GPUs)',
    'print as n/a. MEMORY is memory.used / memory.total: vLLM reserves --gpu-memory-utilization of the',
    'card at start, so ~90 % here is normal; watch KV-cache usage for pressure.',
    'Exit status 1 (error GPU_SMI_FAILED) when nvidia-smi is missing, fails, hangs or prints garbage.',
  ].join('\n'),
  examples: [
    'inferwatch gpu --once',
    'inferwatch gpu --processes --interval 2000',
    'inferwatch gpu --once --json',
  ],
  async run(args, io) {
    const interval = positiveIntFlag(args, 'interval', 'milliseconds')
    const timeout = positiveIntFlag(args, 'timeout', 'milliseconds')
    const config = loadConfig({
      path: stringFlag(args, 'config'),
      env: io.env,
      overrides: {
        gpu: {
          ...(interval ? { intervalMs: interval } : {}),
          ...(timeout ? { timeoutMs: timeout } : {}),
          ...(stringFlag(args, 'nvidia-smi')
            ? { nvidiaSmiPath: stringFlag(args, 'nvidia-smi') }
            : {}),
        },
      },
    })
    const json = boolFlag(args, 'json')
    const read = () =>
      readGpuSnapshot({
        nvidiaSmiPath: config.gpu.nvidiaSmiPath,
        timeoutMs: config.gpu.timeoutMs,
        processes: boolFlag(args, 'processes') || config.gpu.processes,
        signal: io.signal,
      })
    const print = (s: GpuSnapshot, stamp: boolean) => {
      if (json) io.stdout(`${JSON.stringify(s, null, stamp ? undefined : 2)}\n`)
      else
        io.stdout(`${stamp ? `${new Date(s.takenAtMs).toISOString()}\n` : ''}${renderGpuTable(s)}`)
    }
    // The first read decides: no nvidia-smi is an error with a hint (exit 1), not an empty table.
    const first = await read()
    const once = boolFlag(args, 'once')
    print(first, !once)
    if (once) return 0
    let failing = false
    while (!io.signal.aborted) {
      await sleep(config.gpu.intervalMs, io.signal)
      if (io.signal.aborted) break
      try {
        const s = await read()
        failing = false
        io.stdout('\n')
        print(s, true)
      } catch (err) {
        if (io.signal.aborted) break
        if (!failing)
          io.stderr(`error: ${err instanceof Error ? err.message : String(err)} (retrying)\n`)
        failing = true
      }
    }
    return 0
  },
}
