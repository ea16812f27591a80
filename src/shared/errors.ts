import type { ErrorCode } from './error-codes.js'

export { ERROR_CODES, type ErrorCode } from './error-codes.js'

/** The one error class: callers branch on `code`; `hint` tells the user what to do next. */
export class AppError extends Error {
  readonly code: ErrorCode
  readonly hint: string | undefined

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, { cause: options.cause })
    this.name = 'AppError'
    this.code = code
    this.hint = options.hint
  }
}

export function isAppError(err: unknown, code?: ErrorCode): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code)
}

/** Codes that mean the command line or config asked for something impossible. */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set([
  'USAGE',
  'UPSTREAM_URL_INVALID',
  'PLAN_UNKNOWN_MODEL',
  'PLAN_UNKNOWN_GPU',
])

/** Exit code (docs/errors.md): 2 for usage and config errors, 1 for everything else. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof AppError && (USAGE_CODES.has(err.code) || err.code.startsWith('CONFIG_'))) {
    return 2
  }
  return 1
}
