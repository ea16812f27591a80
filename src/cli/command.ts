import type { Logger } from '../shared/index.js'

export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  multiple?: boolean
  /** Shown in --help; say the unit and the default. */
  description: string
  /** Placeholder in --help, e.g. URL or H:P. */
  valueName?: string
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
}

/** What a command may touch of the outside world; main() builds it, tests pass their own. */
export interface CommandIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Record<string, string | undefined>
  cwd: string
  /** Aborted on SIGINT/SIGTERM: long-running commands close their handles and return. */
  signal: AbortSignal
  logger: Logger
}

export interface Command {
  name: string
  summary: string
  usage: string
  options: Record<string, OptionSpec>
  examples?: string[]
  /** Extra paragraphs for --help. */
  details?: string
  run(args: ParsedArgs, io: CommandIo): Promise<number>
}

/** Resolves when the signal aborts: the body of every long-running command. */
export function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}
