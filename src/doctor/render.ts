import type { CheckStatus, DoctorReport } from './types.js'

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', warn: '!', skip: '-' }

/** The readable checklist: one line per check, the fix indented under warnings and failures. */
export function renderDoctorReport(report: DoctorReport): string {
  const lines = [`inferwatch doctor — ${report.upstream}`, '']
  const width = Math.max(...report.checks.map((c) => c.title.length))
  for (const c of report.checks) {
    lines.push(`${MARK[c.status]} ${c.title.padEnd(width)}  ${c.finding}`)
    if (c.fix && (c.status === 'fail' || c.status === 'warn')) lines.push(`    fix: ${c.fix}`)
  }
  const { pass, warn, fail, skip } = report.counts
  lines.push('', `${pass} passed, ${warn} warning(s), ${fail} failed, ${skip} skipped`)
  return `${lines.join('\n')}\n`
}
