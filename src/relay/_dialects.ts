// Markup dialects of each chat tool (vendor docs cited in each driver): what bold, links, list
// items and colour look like. User text is escaped only where the markup would eat it (Slack's
// &<>).

export type Severity = 'critical' | 'warning' | 'info' | 'none'

export interface Dialect {
  heading(s: string): string
  bold(s: string): string
  link(text: string, url: string): string
  item(label: string, value: string): string
  severity(sev: Severity, text: string): string
  esc(s: string): string
  /** Between the lines of one block. */
  lineSep: string
  /** Between blocks (header, alerts). */
  blockSep: string
  /** Between the links of one alert. */
  linkSep: string
}

const plainEsc = (s: string) => s

/** Markdown link targets end at the first unbalanced ")": PromQL in generatorURL has plenty. */
const mdUrl = (u: string) => u.replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/ /g, '%20')
const mdLink = (t: string, u: string) => `[${t}](${mdUrl(u)})`

/** What every Markdown dialect below shares; each spells out only where it differs. */
const markdown = {
  bold: (s: string) => `**${s}**`,
  link: mdLink,
  esc: plainEsc,
  lineSep: '\n',
  blockSep: '\n\n',
  linkSep: ' · ',
} satisfies Partial<Dialect>

const mdItem = (l: string, v: string) => `- **${l}**: ${v}`

/** DingTalk markdown: no tables, no colour; `\n\n` is the reliable paragraph break. */
export const dingtalkMarkdown: Dialect = {
  ...markdown,
  heading: (s) => `#### ${s}`,
  item: mdItem,
  severity: (_sev, t) => t,
}

const WECOM_COLOR: Record<Severity, string> = {
  critical: 'warning',
  warning: 'warning',
  info: 'info',
  none: 'comment',
}

/** WeCom markdown: headings, bold, links, quotes and <font color="info|comment|warning"> only. */
export const wecomMarkdown: Dialect = {
  ...markdown,
  heading: (s) => `### ${s}`,
  item: (l, v) => `> ${l}: ${v}`,
  severity: (sev, t) => `<font color="${WECOM_COLOR[sev]}">${t}</font>`,
}

/** WeCom markdown_v2 (2025): standard Markdown with lists; no colour, no <@userid>. */
export const wecomMarkdownV2: Dialect = {
  ...markdown,
  heading: (s) => `### ${s}`,
  item: mdItem,
  severity: (_sev, t) => t,
}

const FEISHU_COLOR: Record<Severity, string> = {
  critical: 'red',
  warning: 'orange',
  info: 'green',
  none: 'grey',
}

/** Feishu card `markdown` element (lark_md): **bold**, [links](), <font color=...>, lists. */
export const feishuMarkdown: Dialect = {
  ...markdown,
  heading: (s) => `**${s}**`,
  item: mdItem,
  severity: (sev, t) => `<font color='${FEISHU_COLOR[sev]}'>${t}</font>`,
}

/** Slack mrkdwn: *bold*, <url|text>; &, < and > must be escaped. */
export const slackMrkdwn: Dialect = {
  heading: (s) => `*${s}*`,
  bold: (s) => `*${s}*`,
  link: (t, u) => `<${u.replace(/\|/g, '%7C').replace(/>/g, '%3E')}|${t}>`,
  item: (l, v) => `• *${l}*: ${v}`,
  severity: (_sev, t) => t,
  esc: (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
  lineSep: '\n',
  blockSep: '\n\n',
  linkSep: ' · ',
}

/** Plain text (DingTalk/WeCom/Feishu text messages, files): links printed as URLs. */
export const plainText: Dialect = {
  heading: (s) => s,
  bold: (s) => s,
  link: (t, u) => `${t}: ${u}`,
  item: (l, v) => `${l}: ${v}`,
  severity: (_sev, t) => t,
  esc: plainEsc,
  lineSep: '\n',
  blockSep: '\n\n',
  linkSep: '\n',
}
