import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

// Relay metrics (README: Alert relay). `channel` is the configured channel NAME, never its URL
// (tokens live in URLs). Registered on the registry passed in; a second hook on the same registry
// reuses them.

export interface RelayMetrics {
  /** One per notification per channel: delivered | failed (Alertmanager retries) | rejected
   * (permanent config error) | duplicate (dropped by dedupe). */
  notifications: Counter<'channel' | 'status'>
  /** Messages the chat API accepted (a notification may be split into several). */
  messages: Counter<'channel'>
  /** From the hook accepting a notification to its last message delivered (queue + retries). */
  duration: Histogram<'channel'>
  /** Notifications waiting for the robot (rate limits, retries). */
  queueDepth: Gauge<'channel'>
  /** Every failed attempt, by reason (throttled, busy, network, signature, keyword, token...). */
  failures: Counter<'channel' | 'reason'>
}

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make()
}

export function createRelayMetrics(registry: Registry): RelayMetrics {
  const registers = [registry]
  return {
    notifications: once(
      registry,
      'inferwatch_relay_notifications_total',
      () =>
        new Counter({
          name: 'inferwatch_relay_notifications_total',
          help: 'Alertmanager notifications handled per channel, by outcome (delivered, failed, rejected, duplicate).',
          labelNames: ['channel', 'status'],
          registers,
        }),
    ),
    messages: once(
      registry,
      'inferwatch_relay_messages_total',
      () =>
        new Counter({
          name: 'inferwatch_relay_messages_total',
          help: 'Chat messages accepted by the API (a notification may be split into several).',
          labelNames: ['channel'],
          registers,
        }),
    ),
    duration: once(
      registry,
      'inferwatch_relay_delivery_duration_seconds',
      () =>
        new Histogram({
          name: 'inferwatch_relay_delivery_duration_seconds',
          help: 'Time from receiving a notification to its last message delivered, queueing and retries included.',
          labelNames: ['channel'],
          buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
          registers,
        }),
    ),
    queueDepth: once(
      registry,
      'inferwatch_relay_queue_depth',
      () =>
        new Gauge({
          name: 'inferwatch_relay_queue_depth',
          help: 'Notifications waiting to be sent to a channel (rate limits, retries).',
          labelNames: ['channel'],
          registers,
        }),
    ),
    failures: once(
      registry,
      'inferwatch_relay_failures_total',
      () =>
        new Counter({
          name: 'inferwatch_relay_failures_total',
          help: 'Failed delivery attempts per channel, by reason.',
          labelNames: ['channel', 'reason'],
          registers,
        }),
    ),
  }
}
