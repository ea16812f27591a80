import { type FileHandle, open } from 'node:fs/promises'
import { loadConfig, localUrlOf } from '../../config/index.js'
import { type DoctorOptions, renderDoctorReport, runDoctor } from '../../doctor/index.js'
import { readGpuSnapshot } from '../../gpu/index.js'
import { AppError } from '../../shared/index.js'
import { boolFlag, positiveIntFlag, stringFlag, urlFlag } from '../_flags.js'
import type { Command } from '../command.js'

const LOG_TAIL_BYTES = 512 * 1024

/** The last 512 KiB of a log file, or of stdin for `-`. */
async function readLog(path: string): Promise<string> {
  if (path === '-') {
    let text = ''
    for await (const chunk of process.stdin) text = (text + String(chunk)).slice(-LOG_TAIL_BYTES)
    return text
  }
  let handle: FileHandle | undefined
  try {
    handle = await open(path, 'r')
    const { size } = await handle.stat()
    const length = Math.min(size, LOG_TAIL_BYTES)
    const buf = Buffer.alloc(length)
    await handle.read(buf, 0, length, size - length)
    return buf.toString('utf8')
  } catch (cause) {
    throw new AppError('USAGE', `cannot read --engine-log ${path}`, {
      cause,
      hint: 'pass the engine log file, or - and pipe it in (docker logs NAME 2>&1 | inferwatch doctor --engine-log -)',
    })
  } finally {
    await handle?.close()
  }
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary:
    'check the deployment end to end: engine, /metrics, Prometheus, rules, Alertmanager, GPUs',
  usage:
    'inferwatch doctor --upstream URL [--prometheus URL] [--alertmanager URL] [--admin URL] [--config F] [--json]',
  options: {
    upstream: {
      type: 'string',
      valueName: 'URL',
      description: 'engine base URL (default: upstream from the config, http://127.0.0.1:8000)',
    },
    prometheus: {
      type: 'string',
      valueName: 'URL',
      description:
        'Prometheus to check (default: prometheus.url when --config is given; else skipped)',
    },
    alertmanager: {
      type: 'string',
      valueName: 'URL',
      description:
        'Alertmanager to check (default: alertmanager.url when --config is given; else skipped)',
    },
    admin: {
      type: 'string',
      valueName: 'URL',
      description: 'inferwatch admin URL (default: admin when --config is given; else skipped)',
    },
    config: {
      type: 'string',
      valueName: 'FILE',
      description: 'inferwatch.yaml (alert thresholds, URLs, gpu.*)',
    },
    'engine-log': {
      type: 'string',
      valueName: 'FILE',
      description:
        'engine log to scan for why it failed to start (- reads stdin, e.g. from docker logs)',
    },
    json: { type: 'boolean', description: 'print the report as JSON' },
    timeout: { type: 'string', valueName: 'MS', description: 'per HTTP check, ms (default 3000)' },
    'nvidia-smi': {
      type: 'string',
      valueName: 'PATH',
      description: 'the nvidia-smi executable (default gpu.nvidiaSmiPath, found on PATH)',
    },
  },
  details: [
    'Checks, in order: the engine answers and is healthy; with --engine-log, why it failed to start',
    '(CUDA out of memory, a failed model load, max_model_len over the KV cache); which engine it is',
    '(vLLM, TGI, SGLang, llama.cpp); /metrics is served; a 1-token completion works and how long it',
    'took; the inferwatch admin; Prometheus scrapes every target and has the inferwatch alerts loaded;',
    'Alertmanager routes to the relay (/hooks/alertmanager); GPUs are visible; the KV cache holds a',
    'max-length request; the GPU-memory alert threshold sits above the memory the engine reserves.',
    'Each line: ✓ pass, ✗ fail (with the fix), ! warning, - skipped. Exit status 1 if any check fails.',
    'An engine started with --api-key: export INFERWATCH_API_KEY before running doctor.',
  ].join('\n'),
  examples: [
    'inferwatch doctor --upstream http://127.0.0.1:8000',
    'inferwatch doctor --upstream http://127.0.0.1:8000 --prometheus http://127.0.0.1:9090 --alertmanager http://127.0.0.1:9093',
    'inferwatch doctor --config inferwatch.yaml --json',
    'docker logs vllm 2>&1 | inferwatch doctor --engine-log -',
  ],
  async run(args, io) {
    const path = stringFlag(args, 'config')
    const smi = stringFlag(args, 'nvidia-smi')
    const config = loadConfig({
      path,
      env: io.env,
      overrides: {
        upstream: urlFlag(args, 'upstream'),
        ...(smi ? { gpu: { nvidiaSmiPath: smi } } : {}),
      },
    })
    const timeoutMs = positiveIntFlag(args, 'timeout', 'milliseconds')
    // Prometheus, Alertmanager and the admin are checked when named by a flag or by --config.
    const fromConfig = (flag: string, configured: string): string | undefined =>
      urlFlag(args, flag)?.base ?? (path ? configured : undefined)
    const prometheus = fromConfig('prometheus', config.prometheus.url.base)
    const alertmanager = fromConfig('alertmanager', config.alertmanager.url.base)
    const adminUrl = fromConfig('admin', localUrlOf(config.admin))
    const options: DoctorOptions = {
      upstream: config.upstream.base,
      gpuMemoryAlertRatio: config.alerts.gpuMemoryHigh.ratio,
      gpuMemoryUtilization: config.gpuMemoryUtilization,
      ...(prometheus ? { prometheus } : {}),
      ...(alertmanager ? { alertmanager } : {}),
      ...(adminUrl ? { adminUrl } : {}),
      ...(config.adminToken ? { adminToken: config.adminToken } : {}),
      ...(timeoutMs ? { timeoutMs } : {}),
      // From the environment, not a flag: keys on the command line end up in `ps` and shell history.
      ...(io.env.INFERWATCH_API_KEY ? { apiKey: io.env.INFERWATCH_API_KEY } : {}),
    }
    if (config.gpu.enabled)
      options.readGpu = () =>
        readGpuSnapshot({
          nvidiaSmiPath: config.gpu.nvidiaSmiPath,
          timeoutMs: config.gpu.timeoutMs,
          signal: io.signal,
        })
    const logPath = stringFlag(args, 'engine-log')
    if (logPath)
      options.engineLog = {
        name: logPath === '-' ? 'stdin' : logPath,
        text: await readLog(logPath),
      }
    const report = await runDoctor(options)
    io.stdout(
      boolFlag(args, 'json') ? `${JSON.stringify(report, null, 2)}\n` : renderDoctorReport(report),
    )
    return report.ok ? 0 : 1
  },
}
