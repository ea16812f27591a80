import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { assertGolden } from '../testing/index.js'
import { captureLogger, fakeClock, localPayload, relayConfig } from '../testing/relay-kit.js'
import { createChannels } from './_channels.js'
import { dingtalkMarkdown, plainText } from './_dialects.js'
import { createDingtalkDriver } from './_dingtalk.js'
import type { Driver, DriverDeps, QueueItem } from './_driver.js'
import { createFeishuDriver } from './_feishu.js'
import { createRelayMetrics } from './_metrics.js'
import { parseAlertmanagerPayload } from './_payload.js'
import { renderNotification, truncationMarker } from './_render.js'
import { createSlackDriver } from './_slack.js'
import { formatDuration, formatTime } from './_text.js'
import type { RelayChannelConfig } from './_types.js'
import { createWecomDriver } from './_wecom.js'

const NOW_MS = Date.parse('2026-11-28T17:30:00Z')
const NOW = new Date(NOW_MS)

test('times are shown in the configured zone, durations in two units', () => {
  const d = new Date('2026-11-28T17:21:24.526Z')
  assert.equal(formatTime(d, 'Asia/Shanghai'), '2026-11-29 01:21:24 +08:00')
  assert.equal(formatTime(d, 'UTC'), '2026-11-28 17:21:24 +00:00')
  assert.equal(formatTime(d, 'America/New_York'), '2026-11-28 12:21:24 -05:00')
  assert.equal(formatDuration(313_048, 'en'), '5m13s')
  assert.equal(formatDuration(313_048, 'zh'), '5分13秒')
  assert.equal(formatDuration(90_061_000, 'en'), '1d1h')
  assert.equal(formatDuration(3_600_000, 'zh'), '1小时')
  assert.equal(formatDuration(400, 'en'), '0s')
})

test('an unknown time zone is a config error at start', () => {
  const cfg = relayConfig({ timezone: 'Mars/Olympus' })
  const { logger } = captureLogger()
  const clock = fakeClock()
  assert.throws(
    () =>
      createChannels(cfg, {
        fetch,
        now: clock.now,
        sleep: clock.sleep,
        logger,
        metrics: createRelayMetrics(new Registry()),
        writeStdout: () => {},
      }),
    /Mars\/Olympus/,
  )
})

test('messages carry severity, values, labels, local times and links', () => {
  const n = parseAlertmanagerPayload(localPayload('am025-firing-zh-critical-single.json'), NOW)
  const r = renderNotification(n, dingtalkMarkdown, {
    language: 'zh',
    timeZone: 'Asia/Shanghai',
    now: NOW,
    dashboardUrl: 'http://grafana.local/d/llm',
  })
  const text = `${r.header(false)}\n${r.sections.join('\n')}`
  assert.equal(r.severity, 'critical')
  assert.match(r.title, /^\[告警中:1\] 严重 · LLMErrorBudgetBurnFast$/)
  assert.match(text, /推理服务错误预算快速消耗/)
  assert.match(text, /2026-11-29 01:21:24 \+08:00 \(已持续 8分35秒\)/)
  assert.match(text, /\[静默\]\(http:\/\/127\.0\.0\.1:19093\/#\/silences\/new\?filter=/)
  assert.match(text, /\[看板\]\(http:\/\/grafana\.local\/d\/llm\)/)
  assert.match(
    text,
    /\[处理手册\]\(https:\/\/runbooks\.example\.internal\/llm\/error-budget-burn\)/,
  )
  assert.doesNotMatch(
    text,
    /\]\([^)]*\([^)]*\)/,
    'no raw parentheses inside a markdown link target',
  )
  const en = renderNotification(n, plainText, { language: 'en', timeZone: 'UTC', now: NOW })
  assert.match(en.sections[0] ?? '', /Started: 2026-11-28 17:21:24 \+00:00 \(for 8m35s\)/)
})

test('alerts cut by max_alerts are announced in the header, in both languages', () => {
  const n = parseAlertmanagerPayload(
    localPayload('am025-firing-max-alerts-2-truncated-1.json'),
    NOW,
  )
  const opts = { timeZone: 'Asia/Shanghai', now: NOW }
  const zh = renderNotification(n, plainText, { ...opts, language: 'zh' })
  const en = renderNotification(n, plainText, { ...opts, language: 'en' })
  assert.equal(zh.sections.length, 2)
  assert.match(zh.header(false), /另有 1 条告警被 Alertmanager max_alerts 截断/)
  assert.match(en.header(false), /1 more alert\(s\) cut by Alertmanager max_alerts/)
  const full = parseAlertmanagerPayload(localPayload('am025-firing-3-alerts.json'), NOW)
  assert.doesNotMatch(
    renderNotification(full, plainText, { ...opts, language: 'en' }).header(false),
    /max_alerts/,
  )
})

test('user templates replace the title and the alert block', () => {
  const n = parseAlertmanagerPayload(localPayload('am025-firing-3-alerts.json'), NOW)
  const r = renderNotification(n, plainText, {
    language: 'en',
    timeZone: 'Asia/Shanghai',
    now: NOW,
    template: {
      title: '{{status}} {{alertname}} x{{count}} on {{commonLabels.cluster}}',
      alert: '{{labels.instance}} {{ severity }} since {{startsAt}} {{nope}}|',
    },
    keywords: ['ALERT'],
  })
  assert.equal(
    r.title,
    'firing LLMTimeToFirstTokenHigh x3 on gpu-a ALERT',
    'keyword appended when missing',
  )
  assert.equal(r.sections[0], 'vllm-0:8000 warning since 2026-11-29 01:21:24 +08:00 |')
})

// Golden message bodies (UPDATE_GOLDEN=1 rewrites them): what each chat tool receives.
const GOLDEN_CASES = [
  'am025-firing-3-alerts.json',
  'am025-firing-zh-critical-single.json',
  'am025-resolved-2-alerts.json',
]

type MakeDriver = (c: RelayChannelConfig, d: DriverDeps) => Driver
const CHANNELS: [string, MakeDriver, Partial<RelayChannelConfig>][] = [
  [
    'dingtalk-markdown',
    createDingtalkDriver as MakeDriver,
    { type: 'dingtalk', mentions: { mobiles: ['13800000000'], userIds: [], all: false } },
  ],
  [
    'wecom-markdown',
    createWecomDriver as MakeDriver,
    { type: 'wecom', mentions: { mobiles: [], userIds: ['zhangsan'], all: false } },
  ],
  [
    'wecom-markdown-v2',
    createWecomDriver as MakeDriver,
    {
      type: 'wecom',
      msgType: 'markdown_v2',
      mentions: { mobiles: [], userIds: ['zhangsan'], all: false },
    },
  ],
  ['wecom-text', createWecomDriver as MakeDriver, { type: 'wecom', msgType: 'text' }],
  ['feishu-card', createFeishuDriver as MakeDriver, { type: 'feishu' }],
  ['slack-blocks', createSlackDriver as MakeDriver, { type: 'slack' }],
]

/** Every message a notification becomes on one channel, in order. */
function composeAll(driver: Driver, item: QueueItem): unknown[] {
  const out: unknown[] = []
  while (item.next < item.rendered.sections.length) {
    const p = driver.compose([item])
    out.push(p.body)
    item.next += p.taken[0] ?? 0
  }
  return out
}

for (const lang of ['zh', 'en'] as const) {
  for (const [label, make, cfg] of CHANNELS) {
    test(`golden ${label} bodies (${lang})`, () => {
      const channel = {
        name: 'golden',
        url: 'http://127.0.0.1:1/x',
        sendResolved: true,
        ...cfg,
      } as RelayChannelConfig
      const driver = make(channel, {
        fetch,
        now: () => NOW_MS,
        marker: truncationMarker(lang),
        writeStdout: () => {},
        signal: new AbortController().signal,
      })
      const got: Record<string, unknown[]> = {}
      for (const name of GOLDEN_CASES) {
        const n = parseAlertmanagerPayload(localPayload(name), NOW)
        const rendered = renderNotification(n, driver.dialect, {
          language: lang,
          timeZone: 'Asia/Shanghai',
          now: NOW,
        })
        got[name] = composeAll(driver, { notification: n, rendered, next: 0 }).map((b) =>
          typeof b === 'string' ? JSON.parse(b) : b,
        )
      }
      assertGolden('relay', `${label}.${lang}.json`, `${JSON.stringify(got, null, 2)}\n`)
    })
  }
}
