import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { sharedDir } from './shared-fixtures.js'

// The real llama.cpp server of the maintainers' fixture folder (README: Development; llama-server
// build b4748 and a tiny random-weight qwen2 model with the real Qwen tokenizer), started the way
// llama.cpp's README says: https://github.com/ggml-org/llama.cpp/tree/master/tools/server

export const LLAMACPP_SKIP = 'needs ../shared/engines/llamacpp (absent in this checkout)'

export interface LlamaServer {
  url: string
  /** The served alias (`--alias`). */
  model: string
  /** Everything the server printed so far. */
  log(): string
  close(): Promise<void>
}

export interface LlamaServerOptions {
  /** `-c`: total context, split over the slots (default 8192). */
  contextTokens?: number
  /** `-np`: parallel slots (default 2). */
  slots?: number
  /** `--threads-http` (default: llama.cpp's own). */
  httpThreads?: number
  /** Extra flags. */
  args?: string[]
}

/** The binary and model, or undefined when the fixture folder is absent (tests then skip). */
export function llamaServerFiles(): { bin: string; model: string } | undefined {
  const dir = sharedDir()
  if (!dir) return undefined
  const bin = join(dir, 'engines/llamacpp/llama-server')
  const model = join(dir, 'engines/llamacpp/tiny-qwen2.gguf')
  return existsSync(bin) && existsSync(model) ? { bin, model } : undefined
}

/** Starts llama-server on a free 127.0.0.1 port with --metrics; resolves once /health is 200. */
export async function startLlamaServer(options: LlamaServerOptions = {}): Promise<LlamaServer> {
  const files = llamaServerFiles()
  if (!files) throw new Error(LLAMACPP_SKIP)
  const model = 'tiny-qwen2'
  const args = [
    '-m',
    files.model,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--metrics',
    '-c',
    String(options.contextTokens ?? 8192),
    '-np',
    String(options.slots ?? 2),
    '--alias',
    model,
    ...(options.httpThreads ? ['--threads-http', String(options.httpThreads)] : []),
    ...(options.args ?? []),
  ]
  const child = spawn(files.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  const onData = (b: Buffer) => {
    log += b.toString('utf8')
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const close = () => stop(child)
  try {
    const url = await waitForUrl(child, () => log, 20_000)
    await waitForHealth(url, 20_000)
    return { url, model, log: () => log, close }
  } catch (err) {
    await close()
    throw new Error(`llama-server did not start: ${(err as Error).message}\n${log.slice(-2000)}`)
  }
}

async function waitForUrl(child: ChildProcess, log: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const m = /server is listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log())
    if (m?.[1]) return m[1]
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error('no "server is listening" line')
}

async function waitForHealth(url: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/health`, { headers: { connection: 'close' } })
      await res.arrayBuffer()
      if (res.status === 200) return
    } catch {}
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('/health never answered 200')
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}
