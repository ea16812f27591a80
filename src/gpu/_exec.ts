import { execFile } from 'node:child_process'
import { AppError } from '../shared/index.js'

export interface ExecFileOptions {
  timeoutMs: number
  maxBufferBytes: number
  signal?: AbortSignal
}

export interface ExecFileResult {
  stdout: string
  stderr: string
}

/**
 * Runs a program without a shell. Rejects with an Error carrying `code` (errno string or exit
 * number), `killed` and `signal` like node's execFile does; injected in tests and by callers.
 */
export type ExecFileFn = (
  file: string,
  args: readonly string[],
  options: ExecFileOptions,
) => Promise<ExecFileResult>

export const nodeExecFile: ExecFileFn = (file, args, options) =>
  new Promise((resolve, reject) => {
    // node's spawn() adds an 'abort' listener to the signal it is given and removes it on the
    // child's 'exit', which never comes when the spawn itself fails (ENOENT, EACCES): on a host
    // without nvidia-smi a long-lived signal would gain one listener per read
    // (https://github.com/nodejs/node/blob/v20.x/lib/child_process.js, spawn()). So each run gets
    // a signal of its own, tied to the caller's only until the run ends.
    const outer = options.signal
    const own = outer ? new AbortController() : undefined
    const onAbort = () => own?.abort(outer?.reason)
    if (outer?.aborted) onAbort()
    else outer?.addEventListener('abort', onAbort, { once: true })
    execFile(
      file,
      [...args],
      {
        timeout: options.timeoutMs,
        // A hung nvidia-smi (driver stuck) may ignore SIGTERM.
        killSignal: 'SIGKILL',
        maxBuffer: options.maxBufferBytes,
        windowsHide: true,
        encoding: 'utf8',
        ...(own ? { signal: own.signal } : {}),
      },
      (err, stdout, stderr) => {
        outer?.removeEventListener('abort', onAbort)
        if (err) {
          Object.assign(err, { stdout, stderr })
          reject(err)
        } else resolve({ stdout, stderr })
      },
    )
  })

const HINT_MISSING =
  'install the NVIDIA driver utilities (nvidia-smi), set gpu.nvidiaSmiPath in the config (`inferwatch gpu --nvidia-smi PATH` by hand), or set gpu.enabled: false on hosts without a GPU'
const HINT_FAILING =
  'run the same command by hand; "couldn\'t communicate with the NVIDIA driver" means the driver is not loaded or does not match the installed utilities (reboot or reinstall the driver)'

function prop(err: unknown, key: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[key] : undefined
}

function firstLine(text: unknown): string {
  if (typeof text !== 'string') return ''
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? ''
  return line.length > 200 ? `${line.slice(0, 200)}…` : line.trim()
}

/** Runs nvidia-smi once; every failure becomes GPU_SMI_FAILED with a message that names the cause. */
export async function runSmi(
  exec: ExecFileFn,
  path: string,
  args: readonly string[],
  options: ExecFileOptions,
): Promise<string> {
  try {
    const { stdout } = await exec(path, args, options)
    return stdout
  } catch (err) {
    const code = prop(err, 'code')
    const cmd = `${path} ${args.join(' ')}`
    if (code === 'ENOENT') {
      throw new AppError('GPU_SMI_FAILED', `nvidia-smi not found: ${path}`, {
        cause: err,
        hint: HINT_MISSING,
      })
    }
    if (code === 'EACCES') {
      throw new AppError('GPU_SMI_FAILED', `nvidia-smi is not executable: ${path}`, {
        cause: err,
        hint: HINT_MISSING,
      })
    }
    if (code === 'ABORT_ERR') {
      throw new AppError('GPU_SMI_FAILED', `nvidia-smi was stopped (collector closed)`, {
        cause: err,
      })
    }
    if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
      throw new AppError(
        'GPU_SMI_FAILED',
        `nvidia-smi printed more than ${options.maxBufferBytes} bytes`,
        {
          cause: err,
          hint: HINT_FAILING,
        },
      )
    }
    if (prop(err, 'killed') === true || prop(err, 'signal') === 'SIGKILL') {
      throw new AppError(
        'GPU_SMI_FAILED',
        `nvidia-smi did not answer within ${options.timeoutMs} ms: ${cmd}`,
        {
          cause: err,
          hint: 'a hung nvidia-smi usually means a stuck driver or a GPU that fell off the bus (check `dmesg` for Xid errors)',
        },
      )
    }
    // nvidia-smi prints its own errors on stdout (e.g. exit 9: "NVIDIA-SMI has failed because it
    // couldn't communicate with the NVIDIA driver").
    const said = firstLine(prop(err, 'stdout')) || firstLine(prop(err, 'stderr'))
    const exit =
      typeof code === 'number'
        ? `exited with code ${code}`
        : `failed (${String(code ?? prop(err, 'signal') ?? 'unknown')})`
    throw new AppError('GPU_SMI_FAILED', `nvidia-smi ${exit}${said ? `: ${said}` : ''}`, {
      cause: err,
      hint: HINT_FAILING,
    })
  }
}
