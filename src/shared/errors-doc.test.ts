import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { REPO_ROOT } from '../testing/index.js'
import { ERROR_CODES } from './index.js'

test('docs/errors.md lists exactly the codes in error-codes.ts', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs/errors.md'), 'utf8')
  const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1])
  assert.deepEqual([...documented].sort(), [...ERROR_CODES].sort())
})
