import { type ChildProcess, spawn } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { createServer } from 'node:net'

/** A spawned Prometheus-family daemon listening on 127.0.0.1. */
export interface Daemon {
  url: string
  port: number
  child: ChildProcess
  /** Last lines of the daemon's log (stderr), for error messages. */
  logTail(): string
  /** SIGTERM, then SIGKILL after `graceMs`; removes `workDir`. Safe to call twice. */
  close(): Promise<void>
}

export interface StartDaemonOptions {
  name: string
  binary: string
  /** Arguments for a given port (the daemon must listen on 127.0.0.1:port). */
  args: (port: number) => string[]
  workDir: string
  readyTimeoutMs?: number
  graceMs?: number
}

const LOG_TAIL_BYTES = 8192

/** Picks a free port by binding port 0 and releasing it; the caller retries on a race. */
export async function pickFreePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Spawns the daemon on a free port and waits for `/-/ready`; retries when the port was taken. */
export async function startDaemon(options: StartDaemonOptions): Promise<Daemon> {
  let lastError: Error | undefined
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await pickFreePort()
    try {
      return await spawnOnce(options, port)
    } catch (err) {
      lastError = err as Error
      if (!/address already in use|bind:/i.test(lastError.message)) break
    }
  }
  await rm(options.workDir, { recursive: true, force: true })
  throw lastError ?? new Error(`${options.name} did not start`)
}

async function spawnOnce(options: StartDaemonOptions, port: number): Promise<Daemon> {
  const url = `http://127.0.0.1:${port}`
  const child = spawn(options.binary, options.args(port), {
    cwd: options.workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-LOG_TAIL_BYTES)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  let exited = false
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true
      resolve()
    })
    child.once('error', (err) => {
      keep(Buffer.from(String(err)))
      exited = true
      resolve()
    })
  })
  const graceMs = options.graceMs ?? 5000
  let closed = false
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exitPromise
      clearTimeout(timer)
    }
  }
  const daemon: Daemon = {
    url,
    port,
    child,
    logTail: () => log,
    async close() {
      if (closed) return
      closed = true
      await stop()
      await rm(options.workDir, { recursive: true, force: true })
    },
  }
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000)
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(`${options.name} exited before it was ready on ${url}:\n${lastLines(log)}`)
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      if (res.ok) return daemon
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await stop()
  throw new Error(`${options.name} was not ready on ${url} in time:\n${lastLines(log)}`)
}

function lastLines(text: string, n = 15): string {
  return text.trimEnd().split('\n').slice(-n).join('\n')
}

/** POST `<url>/-/reload` (Prometheus needs --web.enable-lifecycle); throws unless 200. */
export async function reloadDaemon(name: string, url: string): Promise<void> {
  const res = await fetch(`${url}/-/reload`, {
    method: 'POST',
    signal: AbortSignal.timeout(10_000),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${name} reload failed (${res.status}): ${text}`)
}
