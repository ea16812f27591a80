import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { parseConfig } from '../config/index.js'
import {
  type AlertmanagerHookOptions,
  createAlertmanagerHook,
  type RelayConfig,
} from '../relay/index.js'
import { createLogger, type Logger } from '../shared/index.js'
import { listSharedFixtures, REPO_ROOT } from './index.js'

// Helpers for the relay's own tests; nothing but *.test.ts imports this file.

export const TESTDATA = join(REPO_ROOT, 'src/relay/testdata')

/** The Alertmanager captures copied into the repo (am025-*), always available. */
export function localPayloads(): { name: string; body: string }[] {
  return readdirSync(TESTDATA)
    .filter((f) => f.startsWith('am025') && f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f, body: readFileSync(join(TESTDATA, f), 'utf8') }))
}

/** Every payload in the optional shared fixtures (alertmanager/, see shared-fixtures.ts; empty when absent). */
export function sharedPayloads(): { name: string; body: string }[] {
  return listSharedFixtures('alertmanager', '.json').map((p) => ({
    name: p.split('/').pop() ?? p,
    body: readFileSync(p, 'utf8'),
  }))
}

export function localPayload(name: string): string {
  return readFileSync(join(TESTDATA, name), 'utf8')
}

/** A clock whose sleep advances time instantly: rate limits and backoff cost no wall time. */
export function fakeClock(startMs = Date.parse('2026-11-28T17:30:00Z')) {
  let t = startMs
  const slept: number[] = []
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms
    },
    slept,
    sleep: async (ms: number) => {
      slept.push(ms)
      t += ms
    },
  }
}

export function relayConfig(relay: unknown): RelayConfig {
  return parseConfig({ relay }).relay
}

export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = []
  return { logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }), lines }
}

export function startHook(
  relay: unknown,
  extra: Partial<AlertmanagerHookOptions> = {},
  clock: ReturnType<typeof fakeClock> = fakeClock(),
) {
  const registry = new Registry()
  const { logger, lines } = captureLogger()
  const hook = createAlertmanagerHook({
    config: relayConfig(relay),
    registry,
    logger,
    now: clock.now,
    sleep: clock.sleep,
    ...extra,
  })
  return { hook, registry, lines, clock }
}

/** The value of one sample from a registry, 0 when absent. */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const m = registry.getSingleMetric(name)
  if (!m) return 0
  const data = await m.get()
  const hit = data.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
  return hit?.value ?? 0
}
