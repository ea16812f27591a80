import type { DashboardSpec } from './_queries.js'
import { type Lang, STRINGS } from './client/i18n.js'

// The page's HTML: a skeleton that paints at once (titles, tiles, chart frames, in the reader's
// language), filled by /assets/app.js. No inline script or style (the CSP forbids both).

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  )

export const RANGES: readonly { label: string; seconds: number }[] = [
  { label: '15m', seconds: 900 },
  { label: '1h', seconds: 3600 },
  { label: '6h', seconds: 6 * 3600 },
  { label: '24h', seconds: 24 * 3600 },
]

function head(lang: Lang, title: string, scripts: boolean): string {
  return [
    '<!doctype html>',
    `<html lang="${lang === 'zh' ? 'zh-CN' : 'en'}">`,
    '<head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    // No favicon request (it would need the token too).
    '<link rel="icon" href="data:,">',
    `<title>${escapeHtml(title)}</title>`,
    '<link rel="stylesheet" href="/assets/app.css">',
    scripts
      ? '<script src="/assets/uplot.js" defer></script><script type="module" src="/assets/app.js"></script>'
      : '',
    '</head>',
  ].join('')
}

export function renderPage(spec: DashboardSpec, lang: Lang): string {
  const s = STRINGS[lang]
  const tiles = spec.tiles
    .map(
      (t) =>
        `<div class="tile" id="tile-${t.key}" data-state="none"><h3>${escapeHtml(s.tiles[t.key] ?? t.key)}</h3><p class="value">—</p><p class="note">${escapeHtml(s.loading)}</p></div>`,
    )
    .join('')
  const charts = spec.panels
    .map(
      (p) =>
        `<figure class="chart" id="chart-${escapeHtml(p.key)}"><figcaption>${escapeHtml(s.panels[p.key] ?? p.title)}</figcaption><div class="plot"></div><ul class="legend"></ul></figure>`,
    )
    .join('')
  const ranges = RANGES.map(
    (r, i) =>
      `<button type="button" data-range="${r.seconds}" aria-pressed="${i === 0}">${r.label}</button>`,
  ).join('')
  return [
    head(lang, `${s.title}: ${s.subtitle}`, true),
    `<body data-lang="${lang}">`,
    '<header class="top">',
    `<h1>${escapeHtml(s.title)} <small>${escapeHtml(s.subtitle)}</small></h1>`,
    `<div class="controls"><div class="ranges" role="group" aria-label="${escapeHtml(s.range)}">${ranges}</div>`,
    `<button type="button" id="lang" lang="${lang === 'zh' ? 'en' : 'zh'}" aria-label="${escapeHtml(s.languageLabel)}">${escapeHtml(s.language)}</button></div>`,
    '</header>',
    '<p id="source" class="source" role="status" data-source="unknown"></p>',
    '<main>',
    `<section class="tiles" id="tiles" aria-label="${escapeHtml(s.subtitle)}">${tiles}</section>`,
    `<section class="alerts" aria-labelledby="alerts-h"><h2 id="alerts-h">${escapeHtml(s.alerts)}</h2><ul id="alert-list"><li class="quiet">${escapeHtml(s.loading)}</li></ul></section>`,
    `<section class="charts" id="charts">${charts}</section>`,
    '</main>',
    `<footer><span id="updated"></span></footer>`,
    '</body></html>',
  ].join('\n')
}

export function renderLoginPage(lang: Lang, wrong: boolean): string {
  const s = STRINGS[lang]
  return [
    head(lang, s.loginTitle, false),
    '<body class="login"><main>',
    `<h1>${escapeHtml(s.loginTitle)}</h1>`,
    `<p>${escapeHtml(s.loginText)}</p>`,
    wrong ? `<p class="wrong" role="alert">${escapeHtml(s.loginWrong)}</p>` : '',
    '<form method="post" action="/login">',
    `<label for="token">${escapeHtml(s.loginLabel)}</label>`,
    '<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>',
    `<button type="submit">${escapeHtml(s.loginButton)}</button>`,
    '</form></main></body></html>',
  ].join('\n')
}
