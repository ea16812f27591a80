import { existsSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'

// Real headless Chromium for the dashboard tests: Debian's `chromium` (the Makefile installs it),
// driven by playwright-core. Tests skip with this message when it is absent.

export const CHROMIUM_PATH = '/usr/bin/chromium'

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumSkip(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `${CHROMIUM_PATH} is missing: run \`make test\` (installs Debian's chromium) to run the browser tests`
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true })
}

/** Where a test keeps its screenshots: a directory under the system tmp dir, printed once. */
export function artifactDir(name: string): string {
  const dir = join(tmpdir(), 'inferwatch-artifacts', name)
  mkdirSync(dir, { recursive: true })
  return dir
}

export interface PageProblems {
  /** Console errors, uncaught exceptions, dialogs (alert/confirm/prompt) and failed requests. */
  list: string[]
}

/** Records what must never happen on a healthy page. */
export function watchPage(page: Page): PageProblems {
  const problems: PageProblems = { list: [] }
  page.on('console', (m) => {
    if (m.type() === 'error') problems.list.push(`console error: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.list.push(`page error: ${e.message}`))
  page.on('dialog', (d) => {
    problems.list.push(`dialog: ${d.type()} ${d.message()}`)
    void d.dismiss()
  })
  page.on('requestfailed', (r) => problems.list.push(`request failed: ${r.url()}`))
  return problems
}
