import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LabelTree } from './index.js'

// The walk cache (the previous call's leaf map and series) must never hand out another labels'
// series: random sequences over small value pools, checked against a plain map of joined values.
test('LabelTree finds the same series as a map of the joined values, in first-seen order', () => {
  const names = ['a', 'b', 'c'] as const
  const pools = [
    ['x', 'y'],
    ['1', '2', '3'],
    ['input', 'output', ''],
  ]
  let seed = 7
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  for (let round = 0; round < 20; round++) {
    const tree = new LabelTree(names, (l) => ({ key: `${l.a}|${l.b}|${l.c}` }))
    const ref = new Map<string, { key: string }>()
    const order: string[] = []
    for (let i = 0; i < 400; i++) {
      // Runs of repeats and of one changed label are what the cache serves; mix them with jumps.
      const labels = {
        a: pools[0]?.[rand(4) === 0 ? rand(2) : 0] as string,
        b: pools[1]?.[rand(3) === 0 ? rand(3) : 1] as string,
        c: pools[2]?.[rand(3)] as string,
      }
      const key = `${labels.a}|${labels.b}|${labels.c}`
      const got = tree.get(labels)
      assert.equal(got.key, key, `call ${i} of round ${round}`)
      const known = ref.get(key)
      if (known) assert.equal(got, known, 'one series per label set')
      else {
        ref.set(key, got)
        order.push(key)
      }
      if (i === 200) {
        tree.clear()
        ref.clear()
        order.length = 0
        assert.deepEqual(tree.all, [])
      }
    }
    assert.deepEqual(
      tree.all.map((s) => s.key),
      order,
    )
  }
})

test('LabelTree without labels keeps one series, made again after clear()', () => {
  let made = 0
  const tree = new LabelTree([] as const, () => ({ id: ++made }))
  const first = tree.get({})
  assert.equal(tree.get({}), first)
  assert.deepEqual(tree.all, [first])
  tree.clear()
  const again = tree.get({})
  assert.notEqual(again, first)
  assert.deepEqual(tree.all, [again])
})
