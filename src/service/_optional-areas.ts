import type { Registry } from 'prom-client'
import type { AdminHandler } from '../admin/index.js'
import type { Config } from '../config/index.js'
import type { Meter } from '../meter/types.js'
import type { Logger } from '../shared/index.js'

// TODO(integration): replace with static imports once src/meter/index.ts (createMeter) and
// src/relay/index.ts (createAlertmanagerHook) land; until then the service runs without them.

export interface MeterFactoryOptions {
  registry: Registry
  contextClasses: Readonly<{ mediumFromTokens: number; longFromTokens: number }>
  logger: Logger
}
export type MeterFactory = (options: MeterFactoryOptions) => Meter

async function importOptional(rel: string): Promise<Record<string, unknown> | undefined> {
  try {
    const mod: unknown = await import(new URL(rel, import.meta.url).href)
    return typeof mod === 'object' && mod !== null ? (mod as Record<string, unknown>) : undefined
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined
    throw err
  }
}

export async function loadMeterFactory(_logger: Logger): Promise<MeterFactory | undefined> {
  const f = (await importOptional('../meter/index.js'))?.createMeter
  return typeof f === 'function' ? (options) => f(options) as Meter : undefined
}

export async function loadRelayHook(
  config: Readonly<Config>,
  registry: Registry,
  logger: Logger,
): Promise<AdminHandler | undefined> {
  const f = (await importOptional('../relay/index.js'))?.createAlertmanagerHook
  if (typeof f !== 'function') {
    logger.warn('relay.channels is set but the relay is not built into this inferwatch yet')
    return undefined
  }
  return f({ config: config.relay, registry, logger }) as AdminHandler
}
