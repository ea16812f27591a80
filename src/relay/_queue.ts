import type { Logger } from '../shared/index.js'
import type { Driver, QueueItem } from './_driver.js'
import type { RelayMetrics } from './_metrics.js'
import { type FailureReason, FIX, type Outcome } from './_outcome.js'
import type { Notification } from './_payload.js'
import { createRateLimiter, type RateLimiter } from './_rate-limit.js'
import type { RenderedNotification } from './_render.js'

// One queue per channel, one message in flight per robot. When the rate limit makes items wait,
// the next message is packed from everything waiting (coalescing), so a burst of 50 notifications
// becomes a few messages instead of 50 that trip the limit. Nothing is dropped.

export type DeliveryStatus = 'delivered' | 'failed' | 'rejected'

export interface DeliveryResult {
  status: DeliveryStatus
  reason?: FailureReason
  detail?: string
  /** Alerts already delivered when a split notification failed part-way. */
  sentSections?: number
}

export interface RetryPolicy {
  maxAttempts: number
  initialBackoffMs: number
  maxBackoffMs: number
}

export type SleepFn = (ms: number, signal: AbortSignal) => Promise<void>

export interface ChannelQueueOptions {
  name: string
  driver: Driver
  retry: RetryPolicy
  now: () => number
  sleep: SleepFn
  logger: Logger
  metrics: RelayMetrics
  /** Shared by every channel that posts to the same robot (its limit is per robot, not per
   * channel); default: this queue's own, from driver.limits. */
  limiter?: RateLimiter
}

export interface ChannelQueue {
  /** `startAt`: alerts already delivered by an earlier, failed attempt (resumed, not repeated). */
  enqueue(
    notification: Notification,
    rendered: RenderedNotification,
    startAt?: number,
  ): Promise<DeliveryResult>
  depth(): number
  close(): Promise<void>
}

interface Pending extends QueueItem {
  acceptedAtMs: number
  resolve(r: DeliveryResult): void
}

export function createChannelQueue(o: ChannelQueueOptions): ChannelQueue {
  const { name, driver, metrics } = o
  const limiter = o.limiter ?? createRateLimiter(driver.limits)
  const queue: Pending[] = []
  const abort = new AbortController()
  let worker: Promise<void> | undefined

  const setDepth = () => metrics.queueDepth.set({ channel: name }, queue.length)

  const finish = (item: Pending, r: DeliveryResult) => {
    const i = queue.indexOf(item)
    if (i >= 0) queue.splice(i, 1)
    metrics.notifications.inc({ channel: name, status: r.status })
    if (r.status === 'delivered') {
      metrics.duration.observe({ channel: name }, Math.max(0, o.now() - item.acceptedAtMs) / 1000)
    }
    item.resolve(r)
  }

  const waitForSlot = async () => {
    for (;;) {
      const wait = limiter.waitMs(o.now())
      if (wait <= 0 || abort.signal.aborted) return
      await o.sleep(wait, abort.signal).catch(() => {})
    }
  }

  const attempt = async (message: unknown): Promise<Outcome> => {
    let last: Outcome = { ok: false, kind: 'transient', reason: 'unknown', detail: 'not sent' }
    for (let n = 1; n <= o.retry.maxAttempts && !abort.signal.aborted; n++) {
      // Check and record in one synchronous step, right before sending: another queue that
      // shares this robot's limiter may have taken the slot while this one was waking up.
      do await waitForSlot()
      while (!abort.signal.aborted && limiter.waitMs(o.now()) > 0)
      if (abort.signal.aborted) break
      limiter.record(o.now())
      last = await driver.send(message)
      if (last.ok) {
        metrics.messages.inc({ channel: name })
        return last
      }
      metrics.failures.inc({ channel: name, reason: last.reason })
      if (last.kind !== 'transient') return last
      if (n === o.retry.maxAttempts) break
      const backoff = Math.min(o.retry.maxBackoffMs, o.retry.initialBackoffMs * 2 ** (n - 1))
      const waitMs = Math.max(backoff, last.retryAfterMs ?? 0)
      o.logger.warn('relay: delivery failed, retrying', {
        channel: name,
        reason: last.reason,
        detail: last.detail,
        attempt: n,
        retryInMs: waitMs,
      })
      await o.sleep(waitMs, abort.signal).catch(() => {})
    }
    return last
  }

  const step = async () => {
    let packed = driver.compose(queue)
    let outcome = await attempt(packed.body)
    const first = queue[0] as Pending
    const total = packed.taken.reduce((a, b) => a + b, 0)
    if (!outcome.ok && outcome.kind === 'too_long' && total > 1) {
      // Our size estimate disagreed with the API: resend the first alert alone.
      const one: QueueItem = {
        ...first,
        rendered: { ...first.rendered, sections: first.rendered.sections.slice(0, first.next + 1) },
      }
      packed = driver.compose([one])
      outcome = await attempt(packed.body)
    }
    const items = queue.slice(0, packed.taken.length)
    if (outcome.ok) {
      items.forEach((item, i) => {
        item.next += packed.taken[i] ?? 0
        if (item.next >= item.rendered.sections.length) finish(item, { status: 'delivered' })
      })
      return
    }
    const status: DeliveryStatus = outcome.kind === 'transient' ? 'failed' : 'rejected'
    if (status === 'rejected') {
      o.logger.error(`relay: channel ${name} rejected the message; it will not be retried`, {
        channel: name,
        reason: outcome.reason,
        detail: outcome.detail,
        fix: FIX[outcome.reason] ?? FIX.unknown,
      })
    } else {
      o.logger.error(
        `relay: channel ${name} still failing after retries; Alertmanager will retry`,
        {
          channel: name,
          reason: outcome.reason,
          detail: outcome.detail,
        },
      )
    }
    for (const item of items)
      finish(item, {
        status,
        reason: outcome.reason,
        detail: outcome.detail,
        sentSections: item.next,
      })
  }

  const run = async () => {
    while (queue.length && !abort.signal.aborted) {
      try {
        await step()
      } catch (err) {
        // A bug in compose/send must not wedge the queue: fail the front item.
        o.logger.error('relay: internal error while delivering', { channel: name, error: err })
        const front = queue[0]
        if (front) finish(front, { status: 'failed', reason: 'unknown', detail: String(err) })
      }
      setDepth()
    }
    worker = undefined
  }

  return {
    enqueue(notification, rendered, startAt = 0) {
      return new Promise<DeliveryResult>((resolve) => {
        if (abort.signal.aborted) {
          resolve({ status: 'failed', reason: 'unknown', detail: 'relay is shutting down' })
          return
        }
        queue.push({ notification, rendered, next: startAt, acceptedAtMs: o.now(), resolve })
        setDepth()
        worker ??= run()
      })
    },
    depth: () => queue.length,
    async close() {
      abort.abort()
      await worker
      for (const item of [...queue]) {
        finish(item, { status: 'failed', reason: 'unknown', detail: 'relay is shutting down' })
      }
      setDepth()
    },
  }
}
