import { redactSecrets } from './redact.js'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFields = Record<string, unknown>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  child(fields: LogFields): Logger
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface LoggerOptions {
  level?: LogLevel
  /** Where lines go; defaults to nothing (tests) — the CLI passes stderr. */
  write?: (line: string) => void
  format?: 'text' | 'json'
  now?: () => Date
}

/** A small structured logger. Every line passes through redactSecrets: tokens never reach logs. */
export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = ORDER[options.level ?? 'info']
  const write = options.write ?? (() => {})
  const now = options.now ?? (() => new Date())
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (ORDER[level] < min) return
    const all = { ...base, ...fields }
    let line: string
    if (options.format === 'json') {
      line = JSON.stringify({ time: now().toISOString(), level, msg, ...all }, errorReplacer)
    } else {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${formatValue(v)}`)
        .join(' ')
      line = `${now().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? ` ${extra}` : ''}`
    }
    write(`${redactSecrets(line)}\n`)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  }
}

function formatValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message)
  if (typeof v === 'string') return /[\s"=]/.test(v) ? JSON.stringify(v) : v
  return JSON.stringify(v) ?? String(v)
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? { message: value.message, name: value.name } : value
}
