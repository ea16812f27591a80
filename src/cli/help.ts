import type { Command } from './command.js'

export function renderCommandHelp(cmd: Command): string {
  const lines = [
    `inferwatch ${cmd.name} — ${cmd.summary}`,
    '',
    `Usage: ${cmd.usage}`,
    '',
    'Options:',
  ]
  const rows = Object.entries(cmd.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}`
    return [flag, o.description] as const
  })
  rows.push(['-h, --help', 'show this help'])
  const width = Math.max(...rows.map(([f]) => f.length)) + 2
  for (const [flag, desc] of rows) lines.push(`  ${flag.padEnd(width)}${desc}`)
  if (cmd.details) lines.push('', cmd.details)
  if (cmd.examples?.length) {
    lines.push('', 'Examples:')
    for (const e of cmd.examples) lines.push(`  ${e}`)
  }
  return `${lines.join('\n')}\n`
}

export function renderMainHelp(commands: readonly Command[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2
  return [
    `inferwatch ${version} — Prometheus observability for self-hosted LLM inference`,
    '',
    'Usage: inferwatch <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run `inferwatch <command> --help` for the options of one command.',
    'Docs: README.md (quick start, metrics, alerts and runbooks); error codes: docs/errors.md',
    '',
  ].join('\n')
}
