import { type HttpUrl, parseHostPort, parseHttpUrl } from '../config/index.js'
import { AppError, type ErrorCode, type HostPort } from '../shared/index.js'
import type { ParsedArgs } from './command.js'

// Flag values every command parses the same way: each returns the typed value, or undefined when
// the flag is absent, and throws a USAGE error naming the flag and the value given.

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name]
  return typeof v === 'string' ? v : undefined
}

export function boolFlag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true
}

/** A whole number > 0 (`unit` names it in the message: milliseconds, bytes). */
export function positiveIntFlag(args: ParsedArgs, name: string, unit: string): number | undefined {
  const raw = stringFlag(args, name)
  if (raw === undefined) return undefined
  if (!/^[1-9]\d*$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new AppError(
      'USAGE',
      `--${name} must be a positive whole number of ${unit}, got "${raw}"`,
      {
        hint: `e.g. --${name} ${unit === 'milliseconds' ? 5000 : 1024}`,
      },
    )
  }
  return Number(raw)
}

/** A decimal number ≥ 0 (`integer`: whole). */
export function numberFlag(
  args: ParsedArgs,
  name: string,
  { integer, command }: { integer: boolean; command: string },
): number | undefined {
  const raw = stringFlag(args, name)
  if (raw === undefined) return undefined
  const ok = integer ? /^\d+$/.test(raw) : /^\d+(\.\d+)?$|^\.\d+$/.test(raw)
  if (!ok) {
    throw new AppError(
      'USAGE',
      `--${name} must be ${integer ? 'a whole number' : 'a number'}, got "${raw}"`,
      { hint: `run \`inferwatch ${command} --help\`` },
    )
  }
  return Number(raw)
}

/** One of `allowed`. */
export function choiceFlag<T extends string>(
  args: ParsedArgs,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const raw = stringFlag(args, name)
  if (raw === undefined) return undefined
  if ((allowed as readonly string[]).includes(raw)) return raw as T
  throw new AppError('USAGE', `--${name} must be one of ${allowed.join(', ')}, got "${raw}"`, {
    hint: `e.g. --${name} ${allowed[0]}`,
  })
}

/** An http(s) base URL (`code`: UPSTREAM_URL_INVALID for --upstream, where that is the contract). */
export function urlFlag(
  args: ParsedArgs,
  name: string,
  code: ErrorCode = 'USAGE',
): HttpUrl | undefined {
  const raw = stringFlag(args, name)
  return raw === undefined ? undefined : parseHttpUrl(raw, `--${name}`, code)
}

/** `HOST:PORT`. */
export function hostPortFlag(args: ParsedArgs, name: string): HostPort | undefined {
  const raw = stringFlag(args, name)
  return raw === undefined ? undefined : parseHostPort(raw, `--${name}`)
}
