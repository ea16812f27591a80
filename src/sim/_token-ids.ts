// The main-thread side of _ids-worker.ts: started at the first /tokenize, undefined on failure.
import { Worker } from 'node:worker_threads'

export interface TokenIds {
  encode(text: string): Promise<number[] | undefined>
  close(): Promise<void>
}

export function createTokenIds(): TokenIds {
  let worker: Worker | undefined
  let next = 0
  const pending = new Map<number, (ids: number[] | undefined) => void>()
  const failAll = () => {
    for (const resolve of pending.values()) resolve(undefined)
    pending.clear()
  }
  const start = (): Worker => {
    const w = new Worker(new URL('./_ids-worker.js', import.meta.url))
    w.unref()
    w.on('message', (m: { id: number; ids?: number[] }) => {
      pending.get(m.id)?.(m.ids)
      pending.delete(m.id)
    })
    w.on('error', () => {
      worker = undefined
      failAll()
    })
    w.on('exit', () => {
      if (worker === w) worker = undefined
      failAll()
    })
    return w
  }
  return {
    encode(text) {
      worker ??= start()
      const id = ++next
      const w = worker
      return new Promise((resolve) => {
        pending.set(id, resolve)
        w.postMessage({ id, text })
      })
    },
    async close() {
      const w = worker
      worker = undefined
      failAll()
      await w?.terminate()
    },
  }
}
