import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { createDingtalkDriver } from './_dingtalk.js'
import type { Driver, DriverDeps, QueueItem } from './_driver.js'
import { createFeishuDriver } from './_feishu.js'
import { parseAlertmanagerPayload } from './_payload.js'
import { renderNotification, truncationMarker } from './_render.js'
import { graphemes, truncateToFit, utf8Bytes } from './_text.js'
import type { RelayChannelConfig } from './_types.js'
import { createWecomDriver } from './_wecom.js'

// Splitting and truncation never cut a character and never lose an alert: the chat APIs limit
// UTF-8 bytes (a Chinese character is 3), so a cut must fall on a character boundary.

const NOW = new Date('2026-11-28T17:30:00Z')
const pieces = [
  '告',
  '警',
  '推理',
  '服务',
  'é',
  'e\u0301',
  '🔥',
  '👨‍👩‍👧',
  '🇨🇳',
  'a',
  'Z',
  ' ',
  '\n',
  '"',
  '\\',
  '<',
  '&',
  '\u0000',
]
const text = (max: number) =>
  fc.array(fc.constantFrom(...pieces), { maxLength: max, size: 'max' }).map((a) => a.join(''))
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const wellFormed = (s: string) => !LONE_SURROGATE.test(s)

test('truncateToFit keeps whole graphemes and fits', () => {
  fc.assert(
    fc.property(text(400), fc.integer({ min: 0, max: 1200 }), (s, limit) => {
      const marker = '…'
      const out = truncateToFit(s, marker, (x) => utf8Bytes(x) <= limit)
      assert.ok(utf8Bytes(out) <= limit || out === '')
      assert.ok(wellFormed(out))
      if (out === s) return
      const body = out.endsWith(marker) ? out.slice(0, -marker.length) : out
      const g = graphemes(s)
      const k = graphemes(body).length
      assert.equal(g.slice(0, k).join(''), body, 'a prefix of whole graphemes')
    }),
    { numRuns: 300 },
  )
})

type Make = (c: RelayChannelConfig, d: DriverDeps) => Driver
const DRIVERS: [string, Make, (body: unknown) => { bytes: number; text: string }][] = [
  [
    'dingtalk',
    createDingtalkDriver as Make,
    (b) => ({ bytes: utf8Bytes(b as string), text: JSON.parse(b as string).markdown.text }),
  ],
  [
    'wecom',
    createWecomDriver as Make,
    (b) => {
      const c = JSON.parse(b as string).markdown.content as string
      return { bytes: utf8Bytes(c), text: c }
    },
  ],
  [
    'feishu',
    createFeishuDriver as Make,
    (b) => ({ bytes: utf8Bytes(JSON.stringify(b)), text: JSON.stringify(b) }),
  ],
]

for (const [name, make, measure] of DRIVERS) {
  test(`${name}: every message fits, every alert arrives once, no character is cut`, () => {
    const stats = { truncated: 0 }
    fc.assert(
      fc.property(
        fc.array(fc.tuple(text(60), text(1500)), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1500, max: 6000 }),
        fc.constantFrom('zh', 'en'),
        (alerts, maxBytes, lang) => {
          const body = JSON.stringify({
            status: 'firing',
            groupLabels: { alertname: 'Group' },
            alerts: alerts.map(([summary, description], i) => ({
              labels: { alertname: `tag${i}x` },
              annotations: { summary, description },
              startsAt: '2026-11-28T17:21:24Z',
            })),
          })
          const n = parseAlertmanagerPayload(body, NOW)
          const cfg = {
            name,
            type: name,
            url: 'http://127.0.0.1:1/x',
            sendResolved: true,
            maxBytes,
          } as RelayChannelConfig
          const driver = make(cfg, {
            fetch,
            now: () => NOW.getTime(),
            marker: truncationMarker(lang as 'zh'),
            writeStdout: () => {},
            signal: new AbortController().signal,
          })
          const rendered = renderNotification(n, driver.dialect, {
            language: lang as 'zh',
            timeZone: 'Asia/Shanghai',
            now: NOW,
          })
          const item: QueueItem = { notification: n, rendered, next: 0 }
          let all = ''
          let messages = 0
          let truncated = 0
          while (item.next < rendered.sections.length) {
            const p = driver.compose([item])
            assert.ok((p.taken[0] ?? 0) >= 1, 'progress')
            item.next += p.taken[0] ?? 0
            const m = measure(p.body)
            assert.ok(m.bytes <= maxBytes, `${m.bytes} > ${maxBytes}`)
            if (m.text.includes(truncationMarker(lang as 'zh').trim())) truncated++
            assert.ok(wellFormed(m.text))
            all += m.text
            messages++
          }
          for (let i = 0; i < alerts.length; i++) {
            assert.equal(all.split(`tag${i}x`).length - 1, 1, `alert ${i} exactly once`)
          }
          assert.ok(messages <= alerts.length, 'never more messages than alerts')
          stats.truncated += truncated
        },
      ),
      { numRuns: 40 },
    )
    assert.ok(stats.truncated > 0, 'the generator exercised truncation')
  })
}
