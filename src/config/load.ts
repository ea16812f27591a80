import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import type { z } from 'zod'
import { AppError } from '../shared/index.js'
import { type Config, configSchema } from './schema.js'

export interface LoadConfigOptions {
  /** Path of inferwatch.yaml; none means defaults only. */
  path?: string | undefined
  env?: Record<string, string | undefined>
  /** Values from flags: deep-merged over the file, validated with it. */
  overrides?: Record<string, unknown>
}

/** Reads, expands `${VAR}`, validates and freezes the config. Throws CONFIG_* AppErrors. */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  let raw: unknown = {}
  if (options.path) {
    let text: string
    try {
      text = readFileSync(options.path, 'utf8')
    } catch (cause) {
      throw new AppError('CONFIG_NOT_FOUND', `cannot read config file ${options.path}`, {
        cause,
        hint: 'check the --config path, or omit --config to use the defaults',
      })
    }
    try {
      raw = parseYaml(text) ?? {}
    } catch (cause) {
      throw new AppError(
        'CONFIG_INVALID',
        `${options.path} is not valid YAML: ${(cause as Error).message}`,
        {
          cause,
          hint: 'fix the YAML syntax at the line shown',
        },
      )
    }
    // A scalar or a list (say "upstream:http://..." without the space) would otherwise be
    // dropped by the merge below, and the defaults run in its place.
    if (!isPlainObject(raw)) {
      throw new AppError(
        'CONFIG_INVALID',
        `${options.path}: the top level must be a mapping of keys, not ${Array.isArray(raw) ? 'a list' : `the ${typeof raw} ${JSON.stringify(raw).slice(0, 60)}`}`,
        { hint: 'write one key per line, "key: value" with a space after the colon' },
      )
    }
    raw = expandEnv(raw, options.env ?? {}, options.path)
  }
  const merged = deepMerge(raw, options.overrides ?? {})
  return parseConfig(merged, options.path ?? 'flags')
}

/** Validates an already-loaded object (tests, programmatic use). */
export function parseConfig(value: unknown, source = 'config'): Readonly<Config> {
  const result = configSchema.safeParse(value)
  if (!result.success) {
    throw new AppError('CONFIG_INVALID', `${source}: ${formatIssues(result.error.issues)}`, {
      hint: 'see the "Configuration" section of the README for every key',
    })
  }
  return deepFreeze(result.data)
}

function formatIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ')
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g

function expandEnv(value: unknown, env: Record<string, string | undefined>, file: string): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR, (_m, name: string) => {
      const v = env[name]
      if (v === undefined) {
        throw new AppError(
          'CONFIG_ENV_MISSING',
          `${file} uses \${${name}} but ${name} is not set`,
          {
            hint: `export ${name}=... before starting inferwatch`,
          },
        )
      }
      return v
    })
  }
  if (Array.isArray(value)) return value.map((v) => expandEnv(v, env, file))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, file)]))
  }
  return value
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function deepMerge(base: unknown, over: Record<string, unknown>): unknown {
  if (!isPlainObject(base)) return over
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k], v) : v
  }
  return out
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}
