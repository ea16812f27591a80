import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

const EXTRA = ['/usr/sbin', '/usr/bin', '/usr/local/bin', '/sbin']

/** Absolute path of an executable on PATH (or the usual Debian places), or undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA]
  for (const dir of dirs) {
    if (!dir) continue
    const p = join(dir, name)
    try {
      accessSync(p, constants.X_OK)
      return p
    } catch {}
  }
  return undefined
}

/** Like findBinary, but a test run by `make test` must not silently skip: throw with the fix. */
export function requireBinary(name: string, debianPackage: string): string {
  const p = findBinary(name)
  if (!p)
    throw new Error(`${name} not found: run \`make test\` (it apt-get installs ${debianPackage})`)
  return p
}
