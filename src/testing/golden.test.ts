import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { assertGolden, goldenFile } from './index.js'

// The helper is run against a temporary repository root with an explicit environment, so this
// file behaves the same whether or not the suite itself runs with UPDATE_GOLDEN=1.
function tmpRoot(t: { after: (fn: () => void) => void }): string {
  const root = mkdtempSync(join(tmpdir(), 'iw-golden-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  return root
}

test('the golden file of area a, name n is src/a/testdata/golden/n', () => {
  assert.equal(goldenFile('meter', 'metrics.txt'), join('src/meter/testdata/golden/metrics.txt'))
  for (const bad of ['../x', 'a/b', '.hidden', ''])
    assert.throws(() => goldenFile('meter', bad), /plain file name/)
  assert.throws(() => goldenFile('../meter', 'x.txt'), /not an area name/)
})

test('a missing golden file fails without UPDATE_GOLDEN and is not written', (t) => {
  const root = tmpRoot(t)
  assert.throws(
    () => assertGolden('demo', 'help.txt', 'text\n', { root, env: {} }),
    (err: Error) =>
      err instanceof assert.AssertionError &&
      /src\/demo\/testdata\/golden\/help\.txt is missing: run the test with UPDATE_GOLDEN=1/.test(
        err.message,
      ),
  )
  assert.equal(existsSync(join(root, 'src/demo/testdata/golden/help.txt')), false)
  // UPDATE_GOLDEN set to anything but 1 is no update either.
  assert.throws(() =>
    assertGolden('demo', 'help.txt', 'text\n', { root, env: { UPDATE_GOLDEN: '0' } }),
  )
})

test('a difference fails with the file name and a line diff, and leaves the file alone', (t) => {
  const root = tmpRoot(t)
  const dir = join(root, 'src/demo/testdata/golden')
  mkdirSync(dir, { recursive: true })
  const golden = [
    'usage: demo',
    '',
    'flags:',
    '  --a  first',
    '  --b  second',
    '  --c  third',
    '',
    'end',
    '',
  ]
  writeFileSync(join(dir, 'help.txt'), golden.join('\n'))
  assertGolden('demo', 'help.txt', golden.join('\n'), { root, env: {} })
  const changed = golden.map((l) => (l === '  --b  second' ? '  --b  SECOND' : l))
  assert.throws(
    () => assertGolden('demo', 'help.txt', changed.join('\n'), { root, env: {} }),
    (err: Error) => {
      assert.ok(err instanceof assert.AssertionError)
      assert.equal(
        err.message,
        [
          'src/demo/testdata/golden/help.txt differs from the output (- golden, + actual); rerun with UPDATE_GOLDEN=1 if the change is intended',
          '@@ golden line 3',
          '  flags:',
          '    --a  first',
          '-   --b  second',
          '+   --b  SECOND',
          '    --c  third',
          '  ',
        ].join('\n'),
      )
      return true
    },
  )
  // A missing trailing newline is a difference too, and the diff says so.
  assert.throws(
    () => assertGolden('demo', 'help.txt', golden.join('\n').trimEnd(), { root, env: {} }),
    /the output has no newline at its end/,
  )
  assert.equal(readFileSync(join(dir, 'help.txt'), 'utf8'), golden.join('\n'))
})

test('UPDATE_GOLDEN=1 writes a missing file and rewrites a different one', (t) => {
  const root = tmpRoot(t)
  const file = join(root, 'src/demo/testdata/golden/help.txt')
  const update = { root, env: { UPDATE_GOLDEN: '1' } }
  assertGolden('demo', 'help.txt', 'one\n', update)
  assert.equal(readFileSync(file, 'utf8'), 'one\n')
  assertGolden('demo', 'help.txt', 'two\n', update)
  assert.equal(readFileSync(file, 'utf8'), 'two\n')
  assertGolden('demo', 'help.txt', 'two\n', { root, env: {} })
})
