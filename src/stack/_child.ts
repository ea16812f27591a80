import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync, statSync } from 'node:fs'
import { AppError, type Logger } from '../shared/index.js'
import { removePidFile, writePidFile } from './_pidfiles.js'

// A supervised Prometheus or Alertmanager. It runs in its own process group (a Ctrl-C in the
// terminal reaches only `up`, which then stops the children in order), logs to a file in the
// data dir, and has a watchdog: a tiny `sh` whose stdin is a pipe from this process. When this
// process dies, even by SIGKILL, the kernel closes the pipe, `cat` sees EOF and the watchdog
// stops the child (SIGTERM, SIGKILL after 5 s). An unexpected exit restarts the child with
// backoff (1 s, doubling to 30 s; reset after a minute up); it keeps its data directory.

const WATCHDOG = [
  'cat >/dev/null',
  'kill -TERM "$1" 2>/dev/null || exit 0',
  'i=0; while [ $i -lt 50 ] && kill -0 "$1" 2>/dev/null; do sleep 0.1; i=$((i+1)); done',
  'kill -KILL "$1" 2>/dev/null',
].join('; ')
const MAX_BACKOFF_MS = 30_000
const STABLE_MS = 60_000

export interface ChildSpec {
  name: 'prometheus' | 'alertmanager'
  binary: string
  args: readonly string[]
  cwd: string
  logFile: string
  pidFile: string
  /** What /proc/<pid>/cmdline must contain for a later `up` to stop it as stale. */
  marks: string[]
  /** GET this answering 200 means ready (`/-/ready`). */
  readyUrl: string
  logger: Logger
  fetch?: typeof globalThis.fetch
  /** Called after a crash, when the restart is scheduled. */
  onRestart?: (info: { name: string; exit: string; delayMs: number; restarts: number }) => void
  onReady?: (info: { name: string; restarts: number }) => void
}

export interface SupervisedChild {
  readonly name: string
  pid(): number | undefined
  restarts(): number
  /** Resolves when it answers readyUrl; STACK_CHILD_FAILED when it exits first or times out. */
  ready(timeoutMs: number): Promise<void>
  /** SIGTERM, SIGKILL after `graceMs`; no restart afterwards. */
  close(graceMs?: number): Promise<void>
}

export function superviseChild(spec: ChildSpec): SupervisedChild {
  const doFetch = spec.fetch ?? globalThis.fetch
  let child: ChildProcess | undefined
  let watchdog: ChildProcess | undefined
  let exited: Promise<string> = Promise.resolve('not started')
  let closing = false
  let restarts = 0
  let backoffMs = 1000
  let startedAt = 0
  let restartTimer: NodeJS.Timeout | undefined

  const start = () => {
    const fd = openSync(spec.logFile, 'a')
    startedAt = Date.now()
    try {
      child = spawn(spec.binary, spec.args, {
        cwd: spec.cwd,
        stdio: ['ignore', fd, fd],
        detached: true,
      })
    } finally {
      closeSync(fd)
    }
    const current = child
    exited = new Promise((resolve) => {
      current.once('error', (err) => resolve(`could not start: ${err.message}`))
      current.once('exit', (code, sig) => resolve(sig ? `killed by ${sig}` : `exit code ${code}`))
    })
    if (current.pid !== undefined) {
      writePidFile(spec.pidFile, current.pid, spec.marks)
      watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'inferwatch-watchdog', String(current.pid)], {
        stdio: ['pipe', 'ignore', 'ignore'],
        detached: true,
      })
      watchdog.unref()
      const pipe = watchdog.stdin as unknown as { unref?: () => void } | null
      pipe?.unref?.()
    }
    const dog = watchdog
    void exited.then((how) => {
      dog?.kill('SIGKILL')
      if (current.pid !== undefined) removePidFile(spec.pidFile, current.pid)
      if (closing || child !== current) return
      child = undefined
      if (Date.now() - startedAt > STABLE_MS) backoffMs = 1000
      const delayMs = backoffMs
      backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2)
      restarts += 1
      spec.logger.warn(`${spec.name} stopped (${how}); restarting in ${delayMs / 1000} s`, {
        restarts,
        log: spec.logFile,
      })
      spec.onRestart?.({ name: spec.name, exit: how, delayMs, restarts })
      restartTimer = setTimeout(() => {
        restartTimer = undefined
        if (closing) return
        start()
        void waitReady(60_000).then(
          () => spec.onReady?.({ name: spec.name, restarts }),
          (err: unknown) => spec.logger.warn(`${spec.name} restart not ready`, { err }),
        )
      }, delayMs)
    })
  }

  const waitReady = async (timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    let gone: string | undefined
    void exited.then((how) => {
      gone = how
    })
    while (Date.now() < deadline) {
      if (gone !== undefined) break
      try {
        const res = await doFetch(spec.readyUrl, { signal: AbortSignal.timeout(1000) })
        await res.arrayBuffer()
        if (res.ok) return
      } catch {}
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new AppError(
      'STACK_CHILD_FAILED',
      `${spec.name} ${gone !== undefined ? `stopped before it was ready (${gone})` : `was not ready at ${spec.readyUrl} within ${Math.round(timeoutMs / 1000)} s`}:\n${logTail(spec.logFile)}`,
      { hint: `the whole log is ${spec.logFile}` },
    )
  }

  start()
  return {
    name: spec.name,
    pid: () => child?.pid,
    restarts: () => restarts,
    ready: waitReady,
    async close(graceMs = 10_000) {
      closing = true
      if (restartTimer) clearTimeout(restartTimer)
      const current = child
      if (!current || current.exitCode !== null || current.signalCode !== null) {
        watchdog?.kill('SIGKILL')
        return
      }
      current.kill('SIGTERM')
      const timer = setTimeout(() => current.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
  }
}

/** The last lines of a log file, for an error message. */
export function logTail(path: string, lines = 12): string {
  try {
    const size = statSync(path).size
    const text = readFileSync(path, 'utf8').slice(Math.max(0, size - 8192))
    return text.trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}
