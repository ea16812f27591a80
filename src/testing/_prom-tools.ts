import { execFile } from 'node:child_process'
import { requireBinary } from './binaries.js'

export interface ToolResult {
  code: number
  output: string
}

/** Runs promtool or amtool (Debian packages) and returns exit code + combined output. */
export function runPromTool(
  name: 'promtool' | 'amtool',
  args: string[],
  cwd?: string,
): Promise<ToolResult> {
  const bin = requireBinary(name, name === 'promtool' ? 'prometheus' : 'prometheus-alertmanager')
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      { cwd, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
        resolve({ code, output: `${stdout}${stderr}` })
      },
    )
  })
}
