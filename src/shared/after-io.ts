// Work that must not sit between a byte arriving and its being forwarded (metering, recording):
// queued, then run in one batch once the event loop has done this turn's I/O — setImmediate
// callbacks run after the poll phase, so the writes the I/O callbacks made are on the wire by then
// (https://nodejs.org/en/learn/asynchronous-work/event-loop-timers-and-nexttick). One batch per
// turn also keeps that code and its data hot instead of interleaving it with the http stack's.
//
// The batch waits one more check phase: some writes are themselves deferred to a setImmediate
// made in the I/O callback — undici sends a request on a reused keep-alive connection only from
// one (`scheduleIdleSocketValidation` in
// https://github.com/nodejs/undici/blob/v6.29.1/lib/dispatcher/client-h1.js). Node runs only the
// immediates queued before a check phase began in it, so a batch queued by the turn's first
// request would otherwise run before the upstream writes of every later request of that turn:
// ten streams opened at once each waited for the meter's work on all ten.

/** A queued call: `fn(a, b, c)`, no closure allocated per call. */
type Task<A, B, C> = (a: A, b: B, c: C) => void

export interface AfterIo {
  /** Runs `fn(a, b, c)` after this turn's I/O and what that I/O deferred to setImmediate, in
   * queue order. A task that throws is reported to the `onError` given at creation with its first
   * argument; the batch goes on. */
  queue<A, B, C>(fn: Task<A, B, C>, a: A, b: B, c: C): void
  /** Runs everything queued now (a scrape, settled(), close): readers see every queued call. */
  flush(): void
}

export function createAfterIo(onError: (err: unknown, first: unknown) => void): AfterIo {
  // Flat [fn, a, b, c, fn, a, b, c, ...]: one array, reused.
  const tasks: unknown[] = []
  let next = 0
  let scheduled = false
  let running = false
  const run = () => {
    // A task that reads a metric flushes: the batch in progress is not started again.
    if (running) return
    running = true
    // Tasks queued while running (a task's own follow-up) run in this batch too.
    while (next < tasks.length) {
      const fn = tasks[next] as Task<unknown, unknown, unknown>
      const a = tasks[next + 1]
      const b = tasks[next + 2]
      const c = tasks[next + 3]
      next += 4
      try {
        fn(a, b, c)
      } catch (err) {
        onError(err, a)
      }
    }
    tasks.length = 0
    next = 0
    running = false
  }
  // false: the first check phase (re-queue); true: the next one (run).
  let second = false
  const onImmediate = () => {
    if (!second) {
      second = true
      setImmediate(onImmediate)
      return
    }
    second = false
    scheduled = false
    run()
  }
  return {
    queue(fn, a, b, c) {
      tasks.push(fn, a, b, c)
      if (!scheduled) {
        scheduled = true
        setImmediate(onImmediate)
      }
    },
    flush: run,
  }
}
