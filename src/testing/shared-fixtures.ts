import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root (dist/testing/ -> ../..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** The maintainers' fixture folder `shared/` beside the checkout (captured engine, GPU and
 * Alertmanager data: README, Development), or undefined in a user's clone (tests then skip those
 * cases). */
export function sharedDir(): string | undefined {
  const dir = resolve(REPO_ROOT, '../shared')
  return existsSync(join(dir, 'fixtures')) ? dir : undefined
}

export const SHARED_SKIP = 'needs ../shared/fixtures (absent in this checkout)'

/** Absolute path of a shared fixture, or undefined when the fixture folder is absent (README, Development). */
export function sharedFixture(rel: string): string | undefined {
  const dir = sharedDir()
  return dir ? join(dir, 'fixtures', rel) : undefined
}

export function readSharedFixture(rel: string): string | undefined {
  const p = sharedFixture(rel)
  return p && existsSync(p) ? readFileSync(p, 'utf8') : undefined
}

/** Files in a shared fixture folder (data only, not the .source.txt notes). */
export function listSharedFixtures(folder: string, suffix = ''): string[] {
  const p = sharedFixture(folder)
  if (!p || !existsSync(p)) return []
  return readdirSync(p)
    .filter((f) => !f.endsWith('.source.txt') && f.endsWith(suffix))
    .sort()
    .map((f) => join(p, f))
}
