#!/usr/bin/env node
import { main } from './main.js'

// The only place that touches process signals and exit codes (docs/architecture.md: Handles).
const controller = new AbortController()
let signals = 0
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    signals += 1
    if (signals > 1) process.exit(130)
    controller.abort()
  })
}

const code = await main(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
})
process.exitCode = code
