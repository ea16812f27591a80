// The observer the proxy holds: each hook only queues its arguments (the proxy calls it between
// reading a chunk and forwarding the next), and the exchange is worked out in the meter's
// after-I/O batch (src/shared/after-io.ts), in hook order, with the timestamps the proxy took.
import type { AfterIo, HeaderSource } from '../shared/index.js'
import type { Dialect } from '../tokens/index.js'
import type { ExchangeObserver, ExchangeOutcome, ExchangeStart } from './types.js'

/** Starts the real exchange (one function per meter: no closure per exchange). */
export type OpenExchange = (o: QueuedObserver) => ExchangeObserver

export class QueuedObserver implements ExchangeObserver {
  /** Set by the first task; undefined until then or when the meter declined the exchange. */
  inner: ExchangeObserver | undefined
  /** A hook threw: its later chunks are not read; its end is still recorded with what is known
   * (the exchange is counted, and the in-flight gauge comes down). */
  broken = false

  constructor(
    private readonly batch: AfterIo,
    open: OpenExchange,
    readonly start: ExchangeStart,
    readonly path: string,
    readonly dialect: Dialect,
  ) {
    batch.queue(openTask, this, open, undefined)
  }

  requestChunk(chunk: Buffer): void {
    this.batch.queue(requestChunkTask, this, chunk, undefined)
  }

  requestEnd(): void {
    this.batch.queue(requestEndTask, this, undefined, undefined)
  }

  responseHead(status: number, headers: HeaderSource, atMs: number): void {
    this.batch.queue(responseHeadTask, this, { status, headers }, atMs)
  }

  responseChunk(chunk: Buffer, atMs: number): void {
    this.batch.queue(responseChunkTask, this, chunk, atMs)
  }

  end(outcome: ExchangeOutcome): void {
    this.batch.queue(endTask, this, outcome, undefined)
  }
}

// Static tasks: queuing a hook allocates no closure.
function openTask(o: QueuedObserver, open: OpenExchange): void {
  o.inner = open(o)
}
function requestChunkTask(o: QueuedObserver, chunk: Buffer): void {
  if (!o.broken) o.inner?.requestChunk(chunk)
}
function requestEndTask(o: QueuedObserver): void {
  if (!o.broken) o.inner?.requestEnd()
}
function responseHeadTask(
  o: QueuedObserver,
  head: { status: number; headers: HeaderSource },
  atMs: number,
): void {
  if (!o.broken) o.inner?.responseHead(head.status, head.headers, atMs)
}
function responseChunkTask(o: QueuedObserver, chunk: Buffer, atMs: number): void {
  if (!o.broken) o.inner?.responseChunk(chunk, atMs)
}
function endTask(o: QueuedObserver, outcome: ExchangeOutcome): void {
  o.inner?.end(outcome)
}
