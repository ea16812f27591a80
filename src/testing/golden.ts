// The one golden-file check of the test suite. A golden file pins a public text surface (a
// command's --help, the /metrics exposition, generated config, chat message bodies) and lives at
// src/<area>/testdata/golden/<name> in the repository, never under dist/.
//
// UPDATE_GOLDEN=1 (re)writes the file and passes; review the change with `git diff` before
// committing it. Without it, a missing file fails (it is never written silently) and a
// difference fails with a line diff against the golden file.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { REPO_ROOT } from './shared-fixtures.js'

export interface GoldenOptions {
  /** Repository root holding src/<area>/testdata/golden/ (default: this checkout). */
  root?: string
  /** Environment read for UPDATE_GOLDEN (default: process.env). */
  env?: Record<string, string | undefined>
}

const AREA = /^[a-z][a-z0-9-]*$/
const NAME = /^[\w.-]+$/

/** The repository-relative path of a golden file: src/<area>/testdata/golden/<name>. */
export function goldenFile(area: string, name: string): string {
  if (!AREA.test(area)) throw new Error(`golden area ${JSON.stringify(area)} is not an area name`)
  if (!NAME.test(name) || name.startsWith('.'))
    throw new Error(`golden name ${JSON.stringify(name)}: use a plain file name, no folders`)
  return join('src', area, 'testdata', 'golden', name)
}

/** Asserts that `actual` equals src/<area>/testdata/golden/<name> byte for byte. */
export function assertGolden(
  area: string,
  name: string,
  actual: string,
  options: GoldenOptions = {},
): void {
  const rel = goldenFile(area, name)
  const path = join(options.root ?? REPO_ROOT, rel)
  const env = options.env ?? process.env
  if (env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, actual)
    return
  }
  if (!existsSync(path))
    assert.fail(
      `golden file ${rel} is missing: run the test with UPDATE_GOLDEN=1 to write it, then review and commit it`,
    )
  const expected = readFileSync(path, 'utf8')
  if (actual === expected) return
  throw new assert.AssertionError({
    message: `${rel} differs from the output (- golden, + actual); rerun with UPDATE_GOLDEN=1 if the change is intended\n${lineDiff(expected, actual)}`,
    stackStartFn: assertGolden,
  })
}

const CONTEXT = 2

type DiffLine = { kind: ' ' | '-' | '+'; text: string; line: number }

/** A unified-style line diff: changed lines with 2 lines of context, each hunk headed by its line. */
function lineDiff(expected: string, actual: string): string {
  const a = expected.split('\n')
  const b = actual.split('\n')
  // Longest common subsequence of lines (golden files are a few hundred lines at most).
  const width = b.length + 1
  const lcs = new Uint32Array((a.length + 1) * width)
  const at = (i: number, j: number) => lcs[i * width + j] ?? 0
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i * width + j] =
        a[i] === b[j] ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1))
  const ops: DiffLine[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', text: a[i] ?? '', line: i + 1 })
      i++
      j++
    } else if (j >= b.length || (i < a.length && at(i + 1, j) >= at(i, j + 1))) {
      ops.push({ kind: '-', text: a[i] ?? '', line: i + 1 })
      i++
    } else {
      ops.push({ kind: '+', text: b[j] ?? '', line: i + 1 })
      j++
    }
  }
  const shown = ops.map((_, k) =>
    ops.slice(Math.max(0, k - CONTEXT), k + CONTEXT + 1).some((op) => op.kind !== ' '),
  )
  const out: string[] = []
  ops.forEach((op, k) => {
    if (!shown[k]) return
    if (k === 0 || !shown[k - 1]) out.push(`@@ golden line ${op.line}`)
    out.push(`${op.kind} ${op.text}`)
  })
  if (expected.endsWith('\n') !== actual.endsWith('\n'))
    out.push(
      `(${actual.endsWith('\n') ? 'the golden file' : 'the output'} has no newline at its end)`,
    )
  return out.join('\n')
}
