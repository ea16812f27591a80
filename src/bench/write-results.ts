import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AppError } from '../shared/index.js'

/** Writes DIR/<name>.json and DIR/<name>.html; returns their paths. */
export function writeResults(
  dir: string,
  name: string,
  json: unknown,
  html: string,
): { jsonPath: string; htmlPath: string } {
  const jsonPath = join(dir, `${name}.json`)
  const htmlPath = join(dir, `${name}.html`)
  try {
    mkdirSync(dir, { recursive: true })
    writeFileSync(jsonPath, `${JSON.stringify(json)}\n`)
    writeFileSync(htmlPath, html)
  } catch (cause) {
    throw new AppError(
      'BENCH_OUT_DIR',
      `cannot write the results to ${dir}: ${(cause as Error).message}`,
      {
        cause,
        hint: 'pick a writable --out directory',
      },
    )
  }
  return { jsonPath, htmlPath }
}

/** `<endpoint>-<c8|r20qps>-<model>-<UTC stamp>`, safe as a file name. */
export function runName(parts: {
  endpoint: string
  shape: string
  model: string
  atMs: number
}): string {
  const stamp = new Date(parts.atMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return `${parts.endpoint}-${parts.shape}-${parts.model}-${stamp}`.replace(/[^\w.-]+/g, '_')
}
