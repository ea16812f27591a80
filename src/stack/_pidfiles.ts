import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AppError } from '../shared/index.js'

// Pid files in the data dir: `up.pid` for the `inferwatch up` that owns it, `<child>.pid` for each
// child it runs. A process is identified by its pid AND its start time (/proc/<pid>/stat field
// 22), so a recycled pid is never mistaken for ours; the child's /proc/<pid>/cmdline must name
// its binary and this data dir before anything is killed.

export interface PidRecord {
  pid: number
  /** /proc/<pid>/stat starttime (clock ticks since boot); undefined where /proc is missing. */
  startTicks: number | undefined
  /** What the cmdline must contain (binary name, data dir); empty for up.pid. */
  marks: string[]
}

export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // comm (field 2) is in parentheses and may hold spaces: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined
    const ticks = Number(rest[19])
    return Number.isFinite(ticks) ? ticks : undefined
  } catch {
    return undefined
  }
}

export function processCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
  } catch {
    return []
  }
}

/** True when the process in `rec` still runs (same start time, cmdline carrying its marks). */
export function isSameProcess(rec: PidRecord): boolean {
  const ticks = processStartTicks(rec.pid)
  if (ticks === undefined || (rec.startTicks !== undefined && ticks !== rec.startTicks))
    return false
  const cmd = processCmdline(rec.pid).join(' ')
  return rec.marks.every((m) => cmd.includes(m))
}

export function readPidFile(path: string): PidRecord | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<PidRecord>
    if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid <= 1) return undefined
    return {
      pid: v.pid,
      startTicks: typeof v.startTicks === 'number' ? v.startTicks : undefined,
      marks: Array.isArray(v.marks) ? v.marks.filter((m) => typeof m === 'string') : [],
    }
  } catch {
    return undefined
  }
}

export function writePidFile(path: string, pid: number, marks: string[]): void {
  const rec: PidRecord = { pid, startTicks: processStartTicks(pid), marks }
  try {
    writeFileSync(path, `${JSON.stringify(rec)}\n`)
  } catch (cause) {
    throw new AppError('STACK_DATA_DIR', `cannot write ${path}: ${(cause as Error).message}`, {
      cause,
      hint: 'pick a writable --data-dir',
    })
  }
}

export function removePidFile(path: string, pid: number): void {
  if (readPidFile(path)?.pid === pid) rmSync(path, { force: true })
}

/**
 * Takes the data dir for this process: STACK_ALREADY_RUNNING when a live `up` holds it, else
 * writes up.pid. Returns the path to release on exit.
 */
export function claimDataDir(dataDir: string, selfPid: number): string {
  const path = join(dataDir, 'up.pid')
  const held = readPidFile(path)
  if (held && held.pid !== selfPid && isSameProcess(held)) {
    throw new AppError(
      'STACK_ALREADY_RUNNING',
      `inferwatch up (pid ${held.pid}) is already running with data dir ${dataDir}`,
      {
        hint: `stop it (Ctrl-C in its terminal, or \`kill ${held.pid}\`), or start this one with another --data-dir`,
      },
    )
  }
  writePidFile(path, selfPid, [])
  return path
}

/** Stops a stale child a killed `up` left (pid file in the data dir); returns its pid if any. */
export async function stopStaleChild(pidFile: string): Promise<number | undefined> {
  const rec = readPidFile(pidFile)
  if (!rec) {
    rmSync(pidFile, { force: true })
    return undefined
  }
  if (!isSameProcess(rec)) {
    rmSync(pidFile, { force: true })
    return undefined
  }
  signal(rec.pid, 'SIGTERM')
  const deadline = Date.now() + 5000
  while (Date.now() < deadline && isSameProcess(rec)) await sleep(50)
  if (isSameProcess(rec)) {
    signal(rec.pid, 'SIGKILL')
    while (isSameProcess(rec)) await sleep(20)
  }
  rmSync(pidFile, { force: true })
  return rec.pid
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {}
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
