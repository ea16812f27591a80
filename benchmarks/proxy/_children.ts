import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export interface Child {
  process: ChildProcess
  pid: number
  stop(): Promise<void>
}

export function track(child: ChildProcess): Child {
  return {
    process: child,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
        setTimeout(() => child.kill('SIGKILL'), 3000).unref()
      }),
  }
}

/** Waits for the first stdout line matching `re` (returns the match), or fails after timeoutMs. */
export function firstLine(
  child: ChildProcess,
  re: RegExp,
  timeoutMs = 15_000,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) return reject(new Error('child has no stdout'))
    const rl = createInterface({ input: child.stdout })
    const timer = setTimeout(
      () => reject(new Error(`no line matching ${re} within ${timeoutMs} ms`)),
      timeoutMs,
    )
    rl.on('line', (line) => {
      const m = re.exec(line)
      if (m) {
        clearTimeout(timer)
        resolve(m)
      }
    })
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before printing ${re}`)))
  })
}

export async function startStub(benchDir: string): Promise<{ child: Child; url: string }> {
  const proc = spawn(process.execPath, [join(benchDir, '_stub.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const m = await firstLine(proc, /^(\d+)$/)
  return { child: track(proc), url: `http://127.0.0.1:${m[1]}` }
}

/** The reference bare Node pipe proxy (see _node-pipe.ts). */
export async function startNodePipe(
  benchDir: string,
  upstream: string,
): Promise<{ child: Child; url: string }> {
  const proc = spawn(process.execPath, [join(benchDir, '_node-pipe.js'), upstream], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const m = await firstLine(proc, /^(http:\/\/\S+)$/)
  return { child: track(proc), url: m[1] as string }
}

/** The real `inferwatch proxy` CLI (metering on, GPU collector off) in its own process. */
export async function startInferwatch(
  distDir: string,
  workDir: string,
  upstream: string,
): Promise<{ child: Child; url: string; adminUrl: string }> {
  const config = join(workDir, 'inferwatch.yaml')
  writeFileSync(config, 'gpu:\n  enabled: false\n')
  const proc = spawn(
    process.execPath,
    [
      join(distDir, 'cli/bin.js'),
      'proxy',
      '--upstream',
      upstream,
      '--listen',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      '--config',
      config,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, INFERWATCH_LOG_LEVEL: 'warn' } },
  )
  proc.stderr?.resume()
  const m = await firstLine(
    proc,
    /listening on (http:\/\/\S+) -> .*metrics at (http:\/\/\S+)\/metrics/,
  )
  return { child: track(proc), url: m[1] as string, adminUrl: m[2] as string }
}

/** nginx-light with a temp prefix: proxy_pass, buffering off, keepalive upstream, HTTP/1.1. */
export async function startNginx(
  nginxPath: string,
  workDir: string,
  upstream: string,
  port: number,
): Promise<{ child: Child; url: string; prefix: string }> {
  const prefix = join(workDir, 'nginx')
  mkdirSync(join(prefix, 'logs'), { recursive: true })
  mkdirSync(join(prefix, 'tmp'), { recursive: true })
  const up = new URL(upstream)
  const conf = `worker_processes 1;
daemon off;
master_process on;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  client_max_body_size 20m;
  client_body_buffer_size 2m;
  keepalive_requests 100000;
  upstream engine { server ${up.host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://engine;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
`
  const confPath = join(prefix, 'nginx.conf')
  writeFileSync(confPath, conf)
  const proc = spawn(
    nginxPath,
    ['-p', prefix, '-c', confPath, '-e', join(prefix, 'logs/error.log')],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let err = ''
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      const res = await fetch(`${url}/healthz-probe`, { method: 'POST', body: '{}' })
      await res.arrayBuffer()
      break
    } catch {
      if (proc.exitCode !== null || Date.now() > deadline) {
        const log = (() => {
          try {
            return readFileSync(join(prefix, 'logs/error.log'), 'utf8')
          } catch {
            return ''
          }
        })()
        throw new Error(`nginx did not start: ${err}${log}`)
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return { child: track(proc), url, prefix }
}

/** Resident set size of a process and its children (nginx: master + worker), bytes. */
export function rssBytes(pid: number): number {
  let total = 0
  const pids = [pid]
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()
    if (children) pids.push(...children.split(/\s+/).map(Number))
  } catch {}
  for (const p of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))
      if (m) total += Number(m[1]) * 1024
    } catch {}
  }
  return total
}

/** CPU seconds (user + system) used so far by a process and its children (nginx: master + worker). */
export function cpuSeconds(pid: number): number {
  const pids = [pid]
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()
    if (children) pids.push(...children.split(/\s+/).map(Number))
  } catch {}
  let ticks = 0
  for (const p of pids) {
    try {
      // Fields after the ")" that closes the command name: utime is the 12th, stime the 13th.
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(f[11]) + Number(f[12])
    } catch {}
  }
  return ticks / 100 // USER_HZ is 100 on Linux
}

/** The peer gateway's version, installed on demand under benchmarks/.peer (never a dependency of
 * the package): `npm install --prefix benchmarks/.peer @portkey-ai/gateway@1.15.2`. */
export const PORTKEY_VERSION = '1.15.2'

/** Portkey's open-source gateway (`@portkey-ai/gateway`) in custom-host mode: requests carry
 * `x-portkey-provider: openai` and `x-portkey-custom-host: <stub>/v1`
 * (https://portkey.ai/docs/product/ai-gateway/universal-api#integrating-local-or-private-models).
 * undefined when it is not installed under `peerDir`. */
export async function startPortkey(
  peerDir: string,
  upstream: string,
  port: number,
): Promise<{ child: Child; url: string; headers: Record<string, string> } | undefined> {
  const main = join(peerDir, 'node_modules/@portkey-ai/gateway/build/start-server.js')
  if (!existsSync(main)) return undefined
  const proc = spawn(process.execPath, [main, `--port=${port}`, '--headless'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  })
  let err = ''
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const url = `http://127.0.0.1:${port}`
  const headers = { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstream}/v1` }
  const deadline = Date.now() + 20_000
  for (;;) {
    try {
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: '{"model":"bench","messages":[{"role":"user","content":"ok"}],"max_tokens":1}',
      })
      await res.arrayBuffer()
      if (res.status !== 200) throw new Error(`Portkey answered HTTP ${res.status}`)
      break
    } catch (e) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL')
        throw new Error(`Portkey's gateway did not start: ${String(e)} ${err}`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  return { child: track(proc), url, headers }
}

/** Waits until the processes together burn at most one clock tick (10 ms) of CPU in a 250 ms
 * window, i.e. ≤ 4 % of a core: a benchmark run then starts on an idle machine. Gives up after
 * `maxMs`; true when it settled. */
export async function settle(pids: readonly number[], maxMs = 10_000): Promise<boolean> {
  const total = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0)
  const deadline = Date.now() + maxMs
  let before = total()
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250))
    const now = total()
    if (now - before <= 0.01) return true
    before = now
  }
  return false
}
