import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseConfig } from '../config/index.js'
import { demoConfig, demoTiming } from './index.js'

// The demo holds each cause until Alertmanager can have notified: the next evaluation sends the
// firing alert, then the group waits group_wait. Shorter, and a symptom that resolves at once is
// never notified (the demo then reports an alert nobody heard of).
test('demo timing: the notification wait is group_wait plus two evaluations, scaled with --speed', () => {
  const user = parseConfig({})
  for (const speed of [1, 20]) {
    const config = parseConfig(demoConfig(user, 'http://127.0.0.1:9', speed))
    const t = demoTiming(config, speed)
    assert.equal(
      t.notifyS,
      config.alertmanager.groupWaitSeconds + 2 * config.prometheus.evaluationIntervalSeconds,
    )
    assert.ok(t.notifyS > config.alertmanager.groupWaitSeconds)
  }
  const test = parseConfig({ alerts: { profile: 'test' } })
  assert.equal(demoTiming(test, 1).notifyS, 3)
})
