// Per-robot sliding-window limits (alerting.md §6.4): DingTalk and WeCom 20/min (DingTalk then
// throttles for 10 min), Feishu 5/s and 100/min, Slack about 1/s. Messages wait; none is dropped.

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

export function createRateLimiter(limits: readonly RateLimit[]): RateLimiter {
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
