// Per-robot sliding-window limits (the vendors' docs cited in each driver): DingTalk and WeCom
// 20/min (DingTalk then throttles for 10 min), Feishu 5/s and 100/min, Slack about 1/s. Messages
// wait; none is dropped.

export interface RateLimit {
  max: number
  windowMs: number
}

export const DEFAULT_LIMITS: Record<string, readonly RateLimit[]> = {
  dingtalk: [{ max: 20, windowMs: 60_000 }],
  wecom: [{ max: 20, windowMs: 60_000 }],
  feishu: [
    { max: 5, windowMs: 1_000 },
    { max: 100, windowMs: 60_000 },
  ],
  slack: [{ max: 1, windowMs: 1_000 }],
  webhook: [],
  file: [],
}

export interface RateLimiter {
  /** Milliseconds to wait before the next send is allowed (0: now). */
  waitMs(nowMs: number): number
  record(nowMs: number): void
}

/** Slack added to each window: the robot counts a message when it arrives, we when we send it, and
 * network jitter between two sends must not make the 21st look early (DingTalk's penalty for
 * that is 10 minutes). 1 s on a minute, 50 ms on a second. */
export function windowMarginMs(windowMs: number): number {
  return Math.min(1_000, Math.ceil(windowMs / 20))
}

export function createRateLimiter(input: readonly RateLimit[]): RateLimiter {
  const limits = input.map((l) => ({
    max: l.max,
    windowMs: l.windowMs + windowMarginMs(l.windowMs),
  }))
  const longest = Math.max(0, ...limits.map((l) => l.windowMs))
  const sent: number[] = []
  return {
    waitMs(nowMs) {
      while (sent.length && (sent[0] as number) <= nowMs - longest) sent.shift()
      let wait = 0
      for (const l of limits) {
        const inWindow = sent.filter((t) => t > nowMs - l.windowMs)
        if (inWindow.length >= l.max) {
          const oldest = inWindow[inWindow.length - l.max] as number
          wait = Math.max(wait, oldest + l.windowMs - nowMs)
        }
      }
      return wait
    },
    record(nowMs) {
      sent.push(nowMs)
    },
  }
}
