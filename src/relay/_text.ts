import { AppError } from '../shared/index.js'

// Text helpers: times in the team's time zone (UTC times are the most-filed complaint against both
// CN relays, e.g. https://github.com/timonwong/prometheus-webhook-dingtalk/issues/37), durations,
// UTF-8 sizes, grapheme-safe truncation, templates.

export type Language = 'zh' | 'en'

/** Throws CONFIG_INVALID for a time zone Intl does not know. */
export function checkTimeZone(timeZone: string, where: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone })
  } catch (cause) {
    throw new AppError('CONFIG_INVALID', `${where}: unknown time zone "${timeZone}"`, {
      cause,
      hint: 'use an IANA name such as Asia/Shanghai, UTC or Europe/Berlin',
    })
  }
}

/** "2026-11-29 01:21:24 +08:00" in the given IANA zone. */
export function formatTime(date: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'longOffset',
  }).formatToParts(date)
  const p = (type: Intl.DateTimeFormatPartTypes) => parts.find((x) => x.type === type)?.value ?? ''
  const zone = p('timeZoneName').replace(/^GMT$/, 'GMT+00:00').replace(/^GMT/, '')
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')}:${p('second')} ${zone}`
}

const UNITS: Record<Language, [string, string, string, string]> = {
  zh: ['天', '小时', '分', '秒'],
  en: ['d', 'h', 'm', 's'],
}

/** The two largest units: "1h5m", "3d2h", "42s"; zh "1小时5分". */
export function formatDuration(ms: number, lang: Language): string {
  const total = Math.max(0, Math.floor(ms / 1000))
  const values = [
    Math.floor(total / 86400),
    Math.floor(total / 3600) % 24,
    Math.floor(total / 60) % 60,
    total % 60,
  ]
  const first = values.findIndex((v) => v > 0)
  if (first === -1) return `0${UNITS[lang][3]}`
  const out: string[] = []
  for (let i = first; i < Math.min(first + 2, 4); i++) {
    if (values[i] !== 0) out.push(`${values[i]}${UNITS[lang][i]}`)
  }
  return out.join('')
}

export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' })

/** Segmenting one long string costs quadratic time in V8's Intl.Segmenter (80,000 characters:
 * seconds, blocking the event loop), so it is segmented in windows; a window's last cluster may go
 * on past it and is segmented again with the next window. */
const WINDOW = 512

/** The grapheme clusters of `s`, the first `limit` of them at most. */
export function graphemes(s: string, limit = Number.POSITIVE_INFINITY): string[] {
  const out: string[] = []
  let at = 0
  while (at < s.length && out.length < limit) {
    let end = Math.min(at + WINDOW, s.length)
    const last = s.charCodeAt(end - 1)
    if (end < s.length && last >= 0xd800 && last <= 0xdbff) end -= 1 // keep a pair together
    const segs = Array.from(segmenter.segment(s.slice(at, end)), (x) => x.segment)
    if (end < s.length && segs.length > 1) segs.pop()
    for (const g of segs) {
      if (out.length >= limit) break
      out.push(g)
      at += g.length
    }
  }
  return out
}

/**
 * The longest grapheme prefix of `text` (plus `marker`) that `fits`. Never cuts a character:
 * surrogate pairs, combining marks and emoji ZWJ sequences stay whole. Returns the marker alone
 * (or '') when nothing fits.
 */
export function truncateToFit(text: string, marker: string, fits: (s: string) => boolean): string {
  if (fits(text)) return text
  // Only the prefix that can matter is segmented: up to the first length (doubling) that no
  // longer fits. A cluster cut at its end starts too late to fit anyway.
  let end = 1024
  while (end < text.length && fits(text.slice(0, end) + marker)) end *= 2
  const g = graphemes(end < text.length ? text.slice(0, end) : text)
  let lo = 0
  let hi = g.length - 1
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (fits(g.slice(0, mid).join('') + marker)) lo = mid
    else hi = mid - 1
  }
  const best = g.slice(0, lo).join('') + marker
  if (fits(best)) return best
  return fits(marker) ? marker : ''
}

/** Caps a string at `max` graphemes with an ellipsis. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text
  const g = graphemes(text, max + 1)
  return g.length <= max ? text : `${g.slice(0, max - 1).join('')}…`
}

export type TemplateVars = Readonly<Record<string, string | Readonly<Record<string, string>>>>

/**
 * `{{name}}` and `{{map.key}}` placeholders; unknown ones become ''. `escape` transforms each
 * inserted value (JSON-escaping for webhook body templates). `{{raw:name}}` skips escaping.
 */
export function renderTemplate(
  template: string,
  vars: TemplateVars,
  escapeValue: (s: string) => string = (s) => s,
): string {
  return template.replace(
    /\{\{\s*(raw:)?([A-Za-z_][\w]*)(?:\.([^}\s]+))?\s*\}\}/g,
    (_m, raw, name: string, key) => {
      const v = vars[name]
      const s = typeof v === 'string' ? v : key !== undefined && v ? (v[key] ?? '') : ''
      return raw ? s : escapeValue(s)
    },
  )
}
