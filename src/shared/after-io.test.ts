import assert from 'node:assert/strict'
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { createAfterIo } from './index.js'

/** Waits until `n` check phases of the event loop have run. */
async function checkPhases(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

test('queued calls run later, once, in order, each with its own arguments', async () => {
  const errors: unknown[] = []
  const later = createAfterIo((err) => errors.push(err))
  const seen: string[] = []
  const note = (a: string, b: number, c: string) => seen.push(`${a}${b}${c}`)
  later.queue(note, 'a', 1, 'x')
  later.queue(note, 'b', 2, 'y')
  assert.deepEqual(seen, [], 'nothing runs inside queue()')
  await checkPhases(2)
  assert.deepEqual(seen, ['a1x', 'b2y'])
  await checkPhases(2)
  assert.deepEqual(seen, ['a1x', 'b2y'], 'a batch runs once')
  assert.deepEqual(errors, [])
})

test('a batch runs after what the same turn deferred to setImmediate (a request sent upstream so)', async () => {
  // undici writes a request on a reused connection from a setImmediate made when it was
  // dispatched; in a turn where several requests arrive, the batch queued with the first one must
  // not run before the later ones went out.
  const later = createAfterIo(() => {})
  const order: string[] = []
  await new Promise<void>((resolve) => {
    // An I/O-like callback: the first request queues meter work, then each request defers its write.
    setTimeout(() => {
      setImmediate(() => order.push('write 1'))
      later.queue(() => order.push('batch'), undefined, undefined, undefined)
      setImmediate(() => order.push('write 2'))
      setImmediate(() => order.push('write 3'))
      setTimeout(resolve, 5)
    }, 0)
  })
  assert.deepEqual(order, ['write 1', 'write 2', 'write 3', 'batch'])
})

test('flush runs the queue now; a flush from inside a task does not start the batch again', () => {
  const later = createAfterIo(() => {})
  const seen: number[] = []
  later.queue(
    (n: number) => {
      seen.push(n)
      later.flush()
      later.queue((m: number) => seen.push(m), 3, undefined, undefined)
    },
    1,
    undefined,
    undefined,
  )
  later.queue((n: number) => seen.push(n), 2, undefined, undefined)
  later.flush()
  assert.deepEqual(seen, [1, 2, 3], 'a follow-up queued while running runs in the same batch')
  later.flush()
  assert.deepEqual(seen, [1, 2, 3])
})

test('a task that throws is reported with its first argument and the batch goes on', () => {
  const errors: [string, unknown][] = []
  const later = createAfterIo((err, first) => errors.push([(err as Error).message, first]))
  const seen: string[] = []
  const target = { id: 'exchange-1' }
  later.queue(
    (o: typeof target) => {
      throw new Error(`boom ${o.id}`)
    },
    target,
    undefined,
    undefined,
  )
  later.queue((s: string) => seen.push(s), 'after', undefined, undefined)
  later.flush()
  assert.deepEqual(errors, [['boom exchange-1', target]])
  assert.deepEqual(seen, ['after'])
})

test('work queued in an I/O callback runs after the write that callback made went out', async (t) => {
  // The server writes its reply in the request callback and queues a task there: the client has
  // the whole reply on its socket before the task runs (the task records what the client had).
  const later = createAfterIo(() => {})
  let clientHadReply: boolean | undefined
  let received = ''
  const server = createServer((_req, res) => {
    let finished = false
    // 'finish': the last byte was handed to the operating system (a tick after end() at best).
    res.on('finish', () => {
      finished = true
    })
    res.end('reply')
    later.queue(
      () => {
        clientHadReply = finished
      },
      undefined,
      undefined,
      undefined,
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent: false }, (res) => {
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        received += c
      })
      res.on('end', resolve)
    })
    req.on('error', reject)
    req.end()
  })
  assert.equal(received, 'reply')
  await checkPhases(2)
  assert.equal(clientHadReply, true)
})
