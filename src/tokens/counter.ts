// The main-thread handle on the token worker. Lazy (no worker, no tokenizer until a count is
// needed), bounded (a queue limit and a per-job timeout) and degrading: a crashed or stuck worker
// resolves every pending job to `undefined` (the meter then says context_class="unknown"); it never
// rejects and never hangs a caller.
import { performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { createLogger, type Logger } from '../shared/index.js'
import type { WorkerAnalysis, WorkerReply, WorkerRequest } from './_protocol.js'
import type { GenerateHint } from './prompt.js'

export type { WorkerAnalysis } from './_protocol.js'

export interface TokenCounterOptions {
  /** A worker that answers no job for this long is stuck: its jobs resolve undefined and it is
   * restarted. Default 30 s (the first job includes loading the tokenizer, ~1 s on an idle core).
   * It is measured from the last answer, not from each job's sending: the worker runs its jobs one
   * after another, so a backlog of long prompts (~0.7 s each) is progress, not a hang. */
  timeoutMs?: number
  /** Jobs waiting beyond this resolve undefined at once. Default 256. */
  maxQueued?: number
  logger?: Logger
  /** Starts a worker; injected by tests (crashing or stuck workers). */
  spawn?: () => Worker
  now?: () => number
}

export interface TokenCounter {
  /** Qwen3 tokens in `text` (special-token text counts as its token); undefined on failure. */
  countText(text: string): Promise<number | undefined>
  /** Parses a request body in the worker and counts its prompt unless shorter than
   * `shortBelowBytes` UTF-8 bytes. `bytes` is transferred (unusable afterwards). */
  analyzeBody(
    path: string,
    bytes: Uint8Array,
    hint: GenerateHint,
    shortBelowBytes: number,
  ): Promise<WorkerAnalysis | undefined>
  /** A buffer of exactly `size` bytes to copy a body into for analyzeBody: a view of one the
   * worker handed back after parsing an earlier body when one is big enough, else a new one. */
  bodyBuffer?(size: number): Uint8Array
  workerStarted(): boolean
  tokenizerLoaded(): boolean
  close(): Promise<void>
}

// Body buffers come back from the worker once it has decoded them and are reused: a fresh 1 MB
// copy per large request would push V8's external-memory accounting into a full GC on the main
// thread every few requests (a pause of several ms, seen in --trace-gc as "external memory
// pressure"). Sizes are rounded up so bodies of about the same size share buffers; the spares kept
// are bounded in count and bytes.
const BODY_BUFFER_STEP = 256 * 1024
const SPARES_MAX = 8
const SPARE_BYTES_MAX = 32 * 1024 * 1024

/** Reusable body buffers (see above); exported for its test. */
export class BodyBuffers {
  private readonly spares: ArrayBuffer[] = []
  private spareBytes = 0
  /** Buffers handed out here: the only ones analyzeBody may transfer without a full-length view. */
  private readonly ours = new WeakSet<ArrayBuffer>()

  take(size: number): Uint8Array {
    let best = -1
    for (let i = 0; i < this.spares.length; i++) {
      const len = (this.spares[i] as ArrayBuffer).byteLength
      if (len >= size && (best < 0 || len < (this.spares[best] as ArrayBuffer).byteLength)) best = i
    }
    let buffer: ArrayBuffer
    if (best >= 0) {
      buffer = this.spares.splice(best, 1)[0] as ArrayBuffer
      this.spareBytes -= buffer.byteLength
    } else {
      buffer = new ArrayBuffer(Math.ceil(Math.max(1, size) / BODY_BUFFER_STEP) * BODY_BUFFER_STEP)
    }
    this.ours.add(buffer)
    return new Uint8Array(buffer, 0, size)
  }

  /** A buffer the worker is done with (its bytes are never read again). */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0 || buffer.byteLength % BODY_BUFFER_STEP !== 0) return
    if (this.spares.length >= SPARES_MAX) return
    if (this.spareBytes + buffer.byteLength > SPARE_BYTES_MAX) return
    this.spares.push(buffer)
    this.spareBytes += buffer.byteLength
  }

  /** Whether `bytes` may be transferred to the worker: its whole buffer, or one handed out here. */
  transferable(bytes: Uint8Array): boolean {
    if (bytes.byteOffset !== 0 || !(bytes.buffer instanceof ArrayBuffer)) return false
    return bytes.byteLength === bytes.buffer.byteLength || this.ours.has(bytes.buffer)
  }

  get spareCount(): number {
    return this.spares.length
  }
}

type Pending = { resolve: (reply: WorkerReply | undefined) => void }

const spawnDefault = () => new Worker(new URL('./_worker.js', import.meta.url))

export function createTokenCounter(options: TokenCounterOptions = {}): TokenCounter {
  const timeoutMs = options.timeoutMs ?? 30_000
  const maxQueued = options.maxQueued ?? 256
  const logger = options.logger ?? createLogger()
  const spawn = options.spawn ?? spawnDefault
  const now = options.now ?? (() => performance.now())
  const pending = new Map<number, Pending>()
  let worker: Worker | undefined
  let started = false
  let loaded = false
  let closed = false
  let nextId = 0
  const failures: number[] = []
  const buffers = new BodyBuffers()

  // The watchdog: armed while jobs are pending; it fires when no answer came since it was armed.
  let answers = 0
  let watchdog: NodeJS.Timeout | undefined
  const stopWatchdog = () => {
    if (watchdog) clearTimeout(watchdog)
    watchdog = undefined
  }
  const armWatchdog = (w: Worker) => {
    if (watchdog) return
    const seen = answers
    watchdog = setTimeout(() => {
      watchdog = undefined
      if (worker !== w || pending.size === 0) return
      if (answers === seen) drop(`answered nothing for ${timeoutMs} ms`)
      else armWatchdog(w)
    }, timeoutMs)
  }

  const failAll = () => {
    stopWatchdog()
    for (const [id, p] of pending) {
      pending.delete(id)
      p.resolve(undefined)
    }
  }

  const drop = (why: string, err?: unknown) => {
    const w = worker
    worker = undefined
    failAll()
    if (w) {
      w.removeAllListeners()
      w.on('error', () => {})
      void w.terminate()
    }
    if (closed) return
    failures.push(now())
    logger.warn(`token worker ${why}; counts in flight degrade to context_class="unknown"`, { err })
  }

  const ensureWorker = (): Worker | undefined => {
    if (worker) return worker
    // Three failures within a minute: stop trying for the rest of that minute.
    while (failures.length > 0 && (failures[0] as number) < now() - 60_000) failures.shift()
    if (failures.length >= 3) return undefined
    let w: Worker
    try {
      w = spawn()
    } catch (err) {
      drop('could not start', err)
      return undefined
    }
    started = true
    w.unref()
    w.on('message', (reply: WorkerReply) => {
      if (reply.tokenizerLoaded) loaded = true
      if ('spare' in reply && reply.spare) buffers.give(reply.spare)
      answers++
      const p = pending.get(reply.id)
      if (!p) return
      pending.delete(reply.id)
      if (pending.size === 0) stopWatchdog()
      p.resolve(reply)
    })
    w.on('error', (err) => {
      if (worker === w) drop('crashed', err)
    })
    w.on('exit', (code) => {
      if (worker === w) drop(`exited with code ${code}`)
    })
    worker = w
    return w
  }

  const send = (
    msg: WorkerRequest,
    transfer: ArrayBuffer[] = [],
  ): Promise<WorkerReply | undefined> => {
    if (closed || pending.size >= maxQueued) return Promise.resolve(undefined)
    const w = ensureWorker()
    if (!w) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      pending.set(msg.id, { resolve })
      armWatchdog(w)
      try {
        w.postMessage(msg, transfer)
      } catch (err) {
        pending.delete(msg.id)
        if (pending.size === 0) stopWatchdog()
        resolve(undefined)
        logger.warn('token worker rejected a job', { err })
      }
    })
  }

  return {
    async countText(text) {
      const reply = await send({ id: ++nextId, kind: 'count', text })
      return reply && 'tokens' in reply ? reply.tokens : undefined
    },
    async analyzeBody(path, bytes, hint, shortBelowBytes) {
      const transferable = buffers.transferable(bytes)
      const msg: WorkerRequest = {
        id: ++nextId,
        kind: 'analyze',
        path,
        bytes,
        hint,
        shortBelowBytes,
      }
      const reply = await send(msg, transferable ? [bytes.buffer as ArrayBuffer] : [])
      return reply && 'analysis' in reply ? reply.analysis : undefined
    },
    bodyBuffer: (size) => buffers.take(size),
    workerStarted: () => started,
    tokenizerLoaded: () => loaded,
    async close() {
      closed = true
      const w = worker
      worker = undefined
      failAll()
      if (w) {
        w.removeAllListeners()
        await w.terminate()
      }
    },
  }
}
