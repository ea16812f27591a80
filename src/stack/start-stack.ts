import { join, resolve } from 'node:path'
import { type Config, type HttpUrl, localUrlOf, parseConfig } from '../config/index.js'
import type { ExecFileFn } from '../gpu/index.js'
import type { PlanOverrides } from '../rules/index.js'
import { type ProxyServiceHandle, startProxyService } from '../server/index.js'
import {
  type AppError,
  formatHostPort,
  type HostPort,
  isAppError,
  type Logger,
} from '../shared/index.js'
import { requireStackBinary } from './_binaries.js'
import { type SupervisedChild, superviseChild } from './_child.js'
import { makeDataDir, type StackPaths, stackPaths, writeStackFiles } from './_files.js'
import { claimDataDir, removePidFile, stopStaleChild } from './_pidfiles.js'
import { checkPorts, freePort, type PortNeed, portError } from './_ports.js'
import { reloadDaemon, type Target, waitTargetsUp } from './_prom-api.js'
import { type ConfigWatch, watchConfigFile } from './_watch.js'

export interface StackOptions {
  /** The user's config with the flags merged (upstream = the engine, or the simulator). */
  config: Readonly<Config>
  /** The --config file: watched, and re-read with `reloadConfig` when it changes. */
  configPath?: string | undefined
  reloadConfig?: () => Readonly<Config>
  /** Base for a relative up.dataDir. */
  cwd: string
  /** Use these instead of running children (nothing is generated for them). */
  externalPrometheus?: HttpUrl | undefined
  externalAlertmanager?: HttpUrl | undefined
  planOverrides?: PlanOverrides
  /** nvidia-smi for the GPU collector (the demo passes the simulator's). */
  execFile?: ExecFileFn
  /** PATH to find the binaries on. */
  path: string | undefined
  logger: Logger
  fetch?: typeof globalThis.fetch
  /** This process's pid (up.pid). */
  pid: number
  /** One readable line per thing that happens (restarts, reloads). */
  say: (line: string) => void
  targetsTimeoutMs?: number
  /** Aborts the wait for the targets (Ctrl-C during start-up). */
  signal?: AbortSignal
}

export interface StackHandle {
  config: Readonly<Config>
  paths: StackPaths
  service: ProxyServiceHandle
  proxyUrl: string
  adminUrl: string
  prometheusUrl: string
  alertmanagerUrl: string
  /** Children `up` runs (absent when external). */
  prometheus: SupervisedChild | undefined
  alertmanager: SupervisedChild | undefined
  /** Stale children from a killed `up` that were stopped at start. */
  staleStopped: number[]
  warnings: string[]
  /** Targets not up when the wait ended (empty: all up). */
  targetsDown: Target[]
  /** Re-renders the files from the config file and POSTs /-/reload to the children. */
  reload(): Promise<void>
  close(): Promise<void>
}

const FILE_CHANNEL = 'inferwatch-file'

export async function startStack(options: StackOptions): Promise<StackHandle> {
  const doFetch = options.fetch ?? globalThis.fetch
  const { logger } = options
  const user = options.config
  const dataDir = resolve(options.cwd, user.up.dataDir)
  const paths = stackPaths(dataDir)
  const runProm = !options.externalPrometheus
  const runAm = !options.externalAlertmanager
  const binaries = {
    prometheus: runProm
      ? requireStackBinary('prometheus', { path: options.path, explicit: user.up.prometheusPath })
      : undefined,
    alertmanager: runAm
      ? requireStackBinary('alertmanager', {
          path: options.path,
          explicit: user.up.alertmanagerPath,
        })
      : undefined,
  }
  makeDataDir(dataDir)
  const upPid = claimDataDir(dataDir, options.pid)
  const cleanup: (() => Promise<void>)[] = [async () => removePidFile(upPid, options.pid)]
  const closeAll = async () => {
    for (const step of cleanup.splice(0).reverse())
      await step().catch((err: unknown) => logger.warn('stop failed', { err }))
  }
  try {
    const staleStopped: number[] = []
    for (const name of ['prometheus', 'alertmanager']) {
      const pid = await stopStaleChild(join(dataDir, `${name}.pid`))
      if (pid !== undefined) staleStopped.push(pid)
    }
    const promAt = user.up.prometheusListen
    const amAt = user.up.alertmanagerListen
    const needs: PortNeed[] = [
      { what: 'the proxy', at: user.listen, flag: '--listen', key: 'listen' },
      { what: 'the admin server', at: user.admin, flag: '--admin', key: 'admin' },
      ...(runProm
        ? [
            {
              what: 'Prometheus',
              at: promAt,
              flag: '--prometheus-listen',
              key: 'up.prometheusListen',
            },
          ]
        : []),
      ...(runAm
        ? [
            {
              what: 'Alertmanager',
              at: amAt,
              flag: '--alertmanager-listen',
              key: 'up.alertmanagerListen',
            },
          ]
        : []),
    ]
    await checkPorts(needs)
    const promListen = { host: promAt.host, port: promAt.port || (await freePort(promAt.host)) }
    const amListen = { host: amAt.host, port: amAt.port || (await freePort(amAt.host)) }
    const prometheusUrl = options.externalPrometheus?.base ?? localUrlOf(promListen)
    const alertmanagerUrl = options.externalAlertmanager?.base ?? localUrlOf(amListen)

    // Every notification is also appended to <data dir>/notifications.log; the server (its
    // dashboard, doctor-like checks) is told where the children really listen.
    const withSink = (c: Readonly<Config>): Readonly<Config> =>
      parseConfig(
        {
          ...c,
          prometheus: { ...c.prometheus, url: prometheusUrl },
          alertmanager: { ...c.alertmanager, url: alertmanagerUrl },
          relay: {
            ...c.relay,
            channels: [
              ...c.relay.channels.filter((ch) => ch.name !== FILE_CHANNEL),
              { name: FILE_CHANNEL, type: 'file', path: paths.notifications },
            ],
          },
        },
        'up',
      )
    let service: ProxyServiceHandle
    try {
      service = await startProxyService(withSink(user), {
        logger,
        ...(options.execFile ? { execFile: options.execFile } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      })
    } catch (err) {
      const need = isAppError(err, 'PROXY_LISTEN_FAILED')
        ? needs[0]
        : isAppError(err, 'ADMIN_LISTEN_FAILED')
          ? needs[1]
          : undefined
      throw need ? portError(need, (err as AppError).cause) : err
    }
    cleanup.push(() => service.close())
    const adminAt: HostPort = { host: user.admin.host, port: service.admin.port }
    const listenAt: HostPort = { host: user.listen.host, port: service.proxy.port }

    /** The config the generated files describe: real ports and URLs. */
    const rendered = (c: Readonly<Config>): Readonly<Config> =>
      parseConfig(
        {
          ...c,
          admin: adminAt,
          listen: listenAt,
          upstream: user.upstream,
          prometheus: { ...c.prometheus, url: prometheusUrl },
          alertmanager: { ...c.alertmanager, url: alertmanagerUrl },
        },
        'up',
      )
    const which = { prometheus: runProm, alertmanager: runAm }
    const files = writeStackFiles(rendered(user), paths, which, options.planOverrides)

    const children: SupervisedChild[] = []
    const child = (
      name: 'prometheus' | 'alertmanager',
      binary: string,
      args: string[],
      at: HostPort,
    ) => {
      const c = superviseChild({
        name,
        binary,
        args,
        cwd: name === 'prometheus' ? paths.prometheusDir : paths.alertmanagerDir,
        logFile: join(dataDir, `${name}.log`),
        pidFile: join(dataDir, `${name}.pid`),
        marks: [binary.split('/').pop() ?? name, dataDir],
        readyUrl: `${localUrlOf(at)}/-/ready`,
        logger,
        fetch: doFetch,
        onRestart: (i) =>
          options.say(
            `${name} stopped (${i.exit}); restarting in ${i.delayMs / 1000} s with its data (restart ${i.restarts})`,
          ),
        onReady: () => options.say(`${name} is back at ${localUrlOf(at)}`),
      })
      children.push(c)
      cleanup.push(() => c.close())
      return c
    }
    const prometheus = binaries.prometheus
      ? child(
          'prometheus',
          binaries.prometheus,
          [
            `--config.file=${paths.prometheusConfig}`,
            `--storage.tsdb.path=${paths.prometheusData}`,
            `--storage.tsdb.retention.time=${user.up.retention}`,
            `--web.listen-address=${formatHostPort(promListen)}`,
            '--web.enable-lifecycle',
          ],
          promListen,
        )
      : undefined
    const alertmanager = binaries.alertmanager
      ? child(
          'alertmanager',
          binaries.alertmanager,
          [
            `--config.file=${paths.alertmanagerConfig}`,
            `--storage.path=${paths.alertmanagerData}`,
            `--web.listen-address=${formatHostPort(amListen)}`,
            // One instance: no gossip port (9094) to collide with another Alertmanager.
            '--cluster.listen-address=',
          ],
          amListen,
        )
      : undefined
    await Promise.all(children.map((c) => c.ready(60_000)))

    // A Prometheus of our own scrapes only our targets: wait for all of them. An external one
    // may scrape anything: report what is down now, do not wait on it.
    const targetsDown = await waitTargetsUp(
      prometheusUrl,
      doFetch,
      options.targetsTimeoutMs ??
        (runProm ? Math.max(15_000, 3000 * user.prometheus.scrapeIntervalSeconds) : 2000),
      options.signal,
    )

    const reload = async () => {
      const next = options.reloadConfig?.() ?? user
      writeStackFiles(rendered(next), paths, which, options.planOverrides)
      if (runProm) await reloadDaemon('Prometheus', prometheusUrl, doFetch)
      if (runAm) await reloadDaemon('Alertmanager', alertmanagerUrl, doFetch)
    }
    let watch: ConfigWatch | undefined
    if (options.configPath && (runProm || runAm)) {
      watch = watchConfigFile(options.configPath, async () => {
        try {
          await reload()
          options.say(
            `${options.configPath} changed: rules and alerting reloaded in place (POST /-/reload)`,
          )
        } catch (err) {
          options.say(
            `${options.configPath} changed but was not applied: ${(err as Error).message}${isAppError(err) && err.hint ? ` (${err.hint})` : ''}`,
          )
        }
      })
      const w = watch
      cleanup.push(async () => w.close())
    }
    return {
      config: user,
      paths,
      service,
      proxyUrl: service.proxyUrl,
      adminUrl: service.adminUrl,
      prometheusUrl,
      alertmanagerUrl,
      prometheus,
      alertmanager,
      staleStopped,
      warnings: files.warnings,
      targetsDown,
      reload,
      close: closeAll,
    }
  } catch (err) {
    await closeAll()
    throw err
  }
}
