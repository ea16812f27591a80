import { parseArgs } from 'node:util'
import { AppError, createLogger, exitCodeFor, readVersion } from '../shared/index.js'
import type { Command, CommandIo, ParsedArgs } from './command.js'
import { COMMANDS } from './commands/index.js'
import { renderCommandHelp, renderMainHelp } from './help.js'

export type MainIo = Omit<CommandIo, 'logger'> & { logger?: CommandIo['logger'] }

/** The CLI as a function: argv in, exit code out (0 ok, 1 runtime failure, 2 usage/config). */
export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  const version = readVersion()
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(renderMainHelp(COMMANDS, version))
    return name ? 0 : 2
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    io.stdout(`${version}\n`)
    return 0
  }
  const cmd = COMMANDS.find((c) => c.name === name)
  if (!cmd) {
    io.stderr(
      `error: unknown command "${name}"\nhint: run \`inferwatch --help\` to list the commands\n`,
    )
    return 2
  }
  const logger =
    io.logger ??
    createLogger({
      level: io.env.INFERWATCH_LOG_LEVEL === 'debug' ? 'debug' : 'info',
      format: io.env.INFERWATCH_LOG_FORMAT === 'json' ? 'json' : 'text',
      write: io.stderr,
    })
  try {
    const args = parseCommandArgs(cmd, rest)
    if (args.values.help === true) {
      io.stdout(renderCommandHelp(cmd))
      return 0
    }
    return await cmd.run(args, { ...io, logger })
  } catch (err) {
    if (err instanceof AppError) {
      io.stderr(`error[${err.code}]: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`)
    } else {
      io.stderr(
        `error[INTERNAL]: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      )
    }
    return exitCodeFor(err)
  }
}

function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs {
  const options: Record<
    string,
    { type: 'string' | 'boolean'; short?: string; multiple?: boolean }
  > = {
    help: { type: 'boolean', short: 'h' },
  }
  for (const [k, o] of Object.entries(cmd.options)) {
    options[k] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    }
  }
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      allowPositionals: true,
      strict: true,
    })
    return { values: values as ParsedArgs['values'], positionals }
  } catch (cause) {
    throw new AppError('USAGE', (cause as Error).message, {
      cause,
      hint: `run \`inferwatch ${cmd.name} --help\``,
    })
  }
}
