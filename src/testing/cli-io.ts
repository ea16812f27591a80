import type { CommandIo } from '../cli/index.js'
import { main } from '../cli/index.js'
import { createLogger } from '../shared/index.js'
import { REPO_ROOT } from './shared-fixtures.js'

/** A CommandIo that records what a command prints (the CLI is `main(argv, io)`). */
export function captureIo(
  signal: AbortSignal = new AbortController().signal,
  cwd: string = REPO_ROOT,
): { out: string[]; err: string[]; io: CommandIo } {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    io: {
      stdout: (s) => void out.push(s),
      stderr: (s) => void err.push(s),
      env: {},
      cwd,
      signal,
      logger: createLogger(),
    },
  }
}

/** Runs the CLI to completion and returns its exit code and output. */
export async function runCli(
  argv: readonly string[],
  cwd: string = REPO_ROOT,
): Promise<{ code: number; out: string; err: string }> {
  const { out, err, io } = captureIo(undefined, cwd)
  const code = await main(argv, io)
  return { code, out: out.join(''), err: err.join('') }
}
