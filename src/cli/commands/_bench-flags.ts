// Flag values particular to `inferwatch bench`: durations (500ms, 30s, 8m, 1h; a bare number is
// seconds), --slo lists and length distributions.
import type { LengthDistribution, Slo } from '../../bench/index.js'
import { AppError } from '../../shared/index.js'
import { choiceFlag, stringFlag } from '../_flags.js'
import type { ParsedArgs } from '../command.js'

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

export function parseDurationMs(raw: string, what: string, bareUnit = 's'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim())
  const value = m ? Number(m[1]) * (UNIT_MS[m[2] ?? bareUnit] ?? 1000) : Number.NaN
  if (!(value > 0))
    throw new AppError('USAGE', `${what} must be a duration like 500ms, 30s or 5m, got "${raw}"`, {
      hint: 'run `inferwatch bench --help`',
    })
  return value
}

export function durationFlag(args: ParsedArgs, name: string): number | undefined {
  const raw = stringFlag(args, name)
  return raw === undefined ? undefined : parseDurationMs(raw, `--${name}`)
}

export function sloFlag(args: ParsedArgs): Slo | undefined {
  const raw = stringFlag(args, 'slo')
  if (raw === undefined) return undefined
  const slo: Slo = {}
  for (const part of raw.split(',')) {
    const [k, v] = part.split('=')
    const key = { ttft: 'ttftMs', tpot: 'tpotMs', e2e: 'e2eMs', e2el: 'e2eMs' }[(k ?? '').trim()] as
      | keyof Slo
      | undefined
    if (!key || v === undefined)
      throw new AppError(
        'USAGE',
        `--slo takes ttft=…,tpot=…,e2e=… (ms unless a unit is given), got "${raw}"`,
        {
          hint: 'e.g. --slo ttft=500ms,tpot=50ms,e2e=20s',
        },
      )
    slo[key] = parseDurationMs(v, `--slo ${k}`, 'ms')
  }
  return slo
}

/** A positive decimal (rates, fractions). */
export function positiveNumberFlag(
  args: ParsedArgs,
  name: string,
  max?: number,
): number | undefined {
  const raw = stringFlag(args, name)
  if (raw === undefined) return undefined
  const v = Number(raw)
  if (!/^\d*\.?\d+$/.test(raw) || !(v > 0) || (max !== undefined && v > max))
    throw new AppError(
      'USAGE',
      `--${name} must be a number above 0${max !== undefined ? ` and at most ${max}` : ''}, got "${raw}"`,
      {
        hint: 'run `inferwatch bench --help`',
      },
    )
  return v
}

export function lengthFlag(
  args: ParsedArgs,
  prefix: 'input' | 'output',
  tokens: number,
): LengthDistribution {
  const kind =
    choiceFlag(args, `${prefix}-dist`, ['fixed', 'uniform', 'normal'] as const) ?? 'fixed'
  const spread = positiveNumberFlag(args, `${prefix}-spread`, 1) ?? 0.25
  const lo = Math.max(1, Math.floor(tokens * (1 - spread)))
  const hi = Math.ceil(tokens * (1 + spread))
  if (kind === 'fixed') return { kind, tokens }
  if (kind === 'uniform') return { kind, min: lo, max: hi }
  return {
    kind,
    mean: tokens,
    std: Math.max(1, Math.round(tokens * spread)),
    min: Math.max(1, tokens - 3 * Math.round(tokens * spread)),
    max: tokens + 3 * Math.round(tokens * spread),
  }
}
