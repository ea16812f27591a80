import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface WrkResult {
  requestsPerSec: number
  p50Ms: number
  p99Ms: number
  errors: number
  requests: number
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 }

/** Parses `wrk --latency` output. */
export function parseWrkOutput(text: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text)
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\b`, 'm').exec(text)
    return m ? Number(m[1]) * (UNIT_MS[m[2] as string] ?? Number.NaN) : Number.NaN
  }
  const total = /(\d+) requests in/.exec(text)
  const errs = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text)
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text)
  return {
    requestsPerSec: rps ? Number(rps[1]) : Number.NaN,
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    requests: total ? Number(total[1]) : 0,
    errors:
      (errs ? Number(errs[1]) : 0) + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
  }
}

export function runWrk(
  wrkPath: string,
  workDir: string,
  url: string,
  options: {
    connections: number
    durationS: number
    threads: number
    headers?: Record<string, string>
  },
): Promise<WrkResult> {
  const script = join(workDir, `post-${new URL(url).port}.lua`)
  const extra = Object.entries(options.headers ?? {})
    .map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}\n`)
    .join('')
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.body = '{"model":"bench","messages":[{"role":"user","content":"Say ok."}],"max_tokens":1}'\nwrk.headers["Content-Type"] = "application/json"\n${extra}`,
  )
  return new Promise((resolve, reject) => {
    execFile(
      wrkPath,
      [
        '-t',
        String(options.threads),
        '-c',
        String(options.connections),
        '-d',
        `${options.durationS}s`,
        '--latency',
        '-s',
        script,
        `${url}/v1/chat/completions`,
      ],
      { timeout: (options.durationS + 30) * 1000 },
      (err, stdout) => (err ? reject(err) : resolve(parseWrkOutput(stdout))),
    )
  })
}
