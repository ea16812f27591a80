import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve, sep } from 'node:path'
import { reloadDaemon, startDaemon } from './_prom-process.js'
import { requireBinary } from './binaries.js'

export {
  listPrometheusAlerts,
  listPrometheusTargets,
  type PromAlert,
  queryPrometheus,
  type Sample,
  waitUntil,
} from './_prom-api.js'
export { pickFreePort } from './_prom-process.js'

export interface StartPrometheusOptions {
  /** prometheus.yml text, written to `<dir>/prometheus.yml`; relative `rule_files` resolve in `<dir>`. */
  configYaml?: string
  /** An existing prometheus.yml, copied to `<dir>/prometheus.yml` (give `configYaml` or this). */
  configFile?: string
  /** Files written into `<dir>` before start: relative path (e.g. rules/x.yml) -> text. */
  ruleFiles?: Record<string, string>
  extraArgs?: string[]
  readyTimeoutMs?: number
}

export interface PrometheusHandle {
  url: string
  /** Temporary working directory: prometheus.yml, rule files, `data/`. Removed by close(). */
  dir: string
  configPath: string
  /** Rewrites files in `dir` (name -> text); call reload() afterwards. */
  writeFiles(files: Record<string, string>): void
  /** POST /-/reload (needs --web.enable-lifecycle, always on here); throws unless 200. */
  reload(): Promise<void>
  logTail(): string
  close(): Promise<void>
}

/**
 * Starts Debian's /usr/bin/prometheus on 127.0.0.1 (free port) with a temporary data directory and
 * `--web.enable-lifecycle`, and waits for `/-/ready`. Throws with "run `make test`" when missing.
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusHandle> {
  const binary = requireBinary('prometheus', 'prometheus')
  const dir = mkdtempSync(join(tmpdir(), 'iw-prom-'))
  const configPath = join(dir, 'prometheus.yml')
  if (options.configYaml !== undefined) writeFileSync(configPath, options.configYaml)
  else if (options.configFile) copyFileSync(options.configFile, configPath)
  else throw new Error('startPrometheus needs configYaml or configFile')
  const writeFiles = (files: Record<string, string>) => {
    for (const [name, text] of Object.entries(files)) {
      const target = resolve(dir, name)
      if (!target.startsWith(`${dir}${sep}`)) throw new Error(`${name} is outside ${dir}`)
      mkdirSync(dirname(target), { recursive: true })
      writeFileSync(target, text)
    }
  }
  writeFiles(options.ruleFiles ?? {})
  const daemon = await startDaemon({
    name: 'prometheus',
    binary,
    workDir: dir,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    args: (port) => [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
      ...(options.extraArgs ?? []),
    ],
  })
  return {
    url: daemon.url,
    dir,
    configPath,
    writeFiles,
    logTail: daemon.logTail,
    reload: () => reloadDaemon('prometheus', daemon.url),
    close: daemon.close,
  }
}

export interface StartAlertmanagerOptions {
  configYaml: string
  extraArgs?: string[]
  readyTimeoutMs?: number
}

export interface AlertmanagerHandle {
  url: string
  dir: string
  configPath: string
  /** POST /-/reload; throws unless 200. */
  reload(): Promise<void>
  logTail(): string
  close(): Promise<void>
}

/**
 * Starts Debian's /usr/bin/prometheus-alertmanager on 127.0.0.1 (free port), no cluster gossip
 * (`--cluster.listen-address=`), temporary `--storage.path`; waits for `/-/ready`.
 */
export async function startAlertmanager(
  options: StartAlertmanagerOptions,
): Promise<AlertmanagerHandle> {
  const binary = requireBinary('prometheus-alertmanager', 'prometheus-alertmanager')
  const dir = mkdtempSync(join(tmpdir(), 'iw-am-'))
  const configPath = join(dir, 'alertmanager.yml')
  writeFileSync(configPath, options.configYaml)
  const daemon = await startDaemon({
    name: 'alertmanager',
    binary,
    workDir: dir,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    args: (port) => [
      `--config.file=${configPath}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
      ...(options.extraArgs ?? []),
    ],
  })
  return {
    url: daemon.url,
    dir,
    configPath,
    logTail: daemon.logTail,
    reload: () => reloadDaemon('alertmanager', daemon.url),
    close: daemon.close,
  }
}
export { type HookBody, startHookReceiver } from './_prom-hook.js'
export { runPromTool, type ToolResult } from './_prom-tools.js'
