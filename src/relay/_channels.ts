import { AppError, type Logger } from '../shared/index.js'
import { createDingtalkDriver } from './_dingtalk.js'
import type { Driver, DriverDeps, FetchFn } from './_driver.js'
import { createFeishuDriver } from './_feishu.js'
import type { RelayMetrics } from './_metrics.js'
import type { Notification, RelayAlert } from './_payload.js'
import { type ChannelQueue, createChannelQueue, type SleepFn } from './_queue.js'
import { createRateLimiter, type RateLimiter } from './_rate-limit.js'
import { type RenderedNotification, renderNotification, truncationMarker } from './_render.js'
import { compileMatchers } from './_routing.js'
import { createSlackDriver } from './_slack.js'
import { checkTimeZone } from './_text.js'
import type { RelayChannelConfig, RelayConfig } from './_types.js'
import { createFileDriver, createWebhookDriver } from './_webhook.js'
import { createWecomDriver } from './_wecom.js'

export interface RelayChannel {
  name: string
  config: RelayChannelConfig
  queue: ChannelQueue
  metrics: RelayMetrics
  matches(a: RelayAlert, n: Notification): boolean
  render(n: Notification, now: Date): RenderedNotification
}

export interface ChannelDeps {
  fetch: FetchFn
  now: () => number
  sleep: SleepFn
  logger: Logger
  metrics: RelayMetrics
  writeStdout: (text: string) => void
}

const DRIVERS: Record<
  RelayChannelConfig['type'],
  (c: RelayChannelConfig, d: DriverDeps) => Driver
> = {
  dingtalk: createDingtalkDriver as (c: RelayChannelConfig, d: DriverDeps) => Driver,
  wecom: createWecomDriver as (c: RelayChannelConfig, d: DriverDeps) => Driver,
  feishu: createFeishuDriver as (c: RelayChannelConfig, d: DriverDeps) => Driver,
  slack: createSlackDriver as (c: RelayChannelConfig, d: DriverDeps) => Driver,
  webhook: createWebhookDriver as (c: RelayChannelConfig, d: DriverDeps) => Driver,
  file: createFileDriver as (c: RelayChannelConfig, d: DriverDeps) => Driver,
}

/** Builds every configured channel. Throws CONFIG_INVALID for bad time zones and regexes. */
export function createChannels(config: RelayConfig, deps: ChannelDeps): RelayChannel[] {
  checkTimeZone(config.timezone, 'relay.timezone')
  // Rate limits are per robot (README: Alert relay): channels that post to the same URL (say one
  // per severity, with different mentions) share one limiter, the first such channel's limits.
  const limiters = new Map<string, RateLimiter>()
  return config.channels.map((cfg, i) => {
    const where = `relay.channels[${i}] (${cfg.name})`
    const timeZone = cfg.timezone ?? config.timezone
    checkTimeZone(timeZone, `${where}.timezone`)
    const language = cfg.language ?? config.language
    let matches: RelayChannel['matches']
    try {
      matches = compileMatchers(cfg)
    } catch (cause) {
      throw new AppError('CONFIG_INVALID', `${where}.matchRe: ${(cause as Error).message}`, {
        cause,
        hint: 'matchRe values are regular expressions, anchored at both ends',
      })
    }
    const shutdown = new AbortController()
    const driver = DRIVERS[cfg.type](cfg, {
      signal: shutdown.signal,
      fetch: deps.fetch,
      now: deps.now,
      marker: truncationMarker(language),
      writeStdout: deps.writeStdout,
    })
    const robot = cfg.url ? `${cfg.type} ${cfg.url}` : undefined
    const limiter = (robot && limiters.get(robot)) || createRateLimiter(driver.limits)
    if (robot) limiters.set(robot, limiter)
    const queue = createChannelQueue({
      name: cfg.name,
      driver,
      limiter,
      retry: config.retry,
      now: deps.now,
      sleep: deps.sleep,
      logger: deps.logger,
      metrics: deps.metrics,
    })
    return {
      name: cfg.name,
      config: cfg,
      queue: {
        ...queue,
        close: () => {
          shutdown.abort()
          return queue.close()
        },
      },
      metrics: deps.metrics,
      matches,
      render: (n, now) =>
        renderNotification(n, driver.dialect, {
          language,
          timeZone,
          now,
          dashboardUrl: cfg.dashboardUrl ?? config.dashboardUrl,
          template: cfg.template,
          keywords: cfg.keywords,
        }),
    }
  })
}
