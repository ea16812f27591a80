import { readFileSync } from 'node:fs'

/** The package version, read once from package.json beside dist/. */
export function readVersion(): string {
  try {
    const url = new URL('../../package.json', import.meta.url)
    const pkg: unknown = JSON.parse(readFileSync(url, 'utf8'))
    if (pkg && typeof pkg === 'object' && 'version' in pkg && typeof pkg.version === 'string') {
      return pkg.version
    }
  } catch {}
  return '0.0.0'
}
