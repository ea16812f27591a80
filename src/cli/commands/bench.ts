import { dirname, resolve } from 'node:path'
import {
  type BenchOptions,
  type BenchRun,
  benchJson,
  chatScenario,
  longContextScenario,
  type Progress,
  parseResultFile,
  readResultFile,
  readTargetFacts,
  renderCompareHtml,
  renderCompareTable,
  renderReportHtml,
  renderRun,
  runBench,
  runName,
  runSummaryJson,
  runSweep,
  SCENARIOS,
  type ScenarioDefaults,
  writeResults,
} from '../../bench/index.js'
import { AppError } from '../../shared/index.js'
import { boolFlag, choiceFlag, positiveIntFlag, stringFlag, urlFlag } from '../_flags.js'
import type { Command, CommandIo, ParsedArgs } from '../command.js'
import { durationFlag, lengthFlag, positiveNumberFlag, sloFlag } from './_bench-flags.js'
import { BENCH_OPTIONS } from './_bench-options.js'

const ENDPOINTS = ['chat', 'completions', 'tgi-generate', 'vllm-generate', 'llamacpp'] as const

export const benchCommand: Command = {
  name: 'bench',
  summary: 'load generator: exact prompts, honest latencies, checked against /metrics; A/B compare',
  usage:
    'inferwatch bench --target URL [--model M] [--endpoint E] [--input-tokens N] [--output-tokens N] [--requests N | --duration D] [--concurrency N | --rate R | --sweep] [--metrics URL]... [--out DIR]\n       inferwatch bench compare A.json B.json [--out DIR]',
  options: BENCH_OPTIONS,
  details: [
    'Endpoints: chat = /v1/chat/completions, completions = /v1/completions, tgi-generate = TGI',
    "/generate_stream (/generate with --no-stream), vllm-generate = vLLM's demo /generate,",
    "llamacpp = llama.cpp's /completion. Streamed by default.",
    'Each request is timed from raw timestamps: scheduled, sent, headers, every chunk. TTFT ends at',
    'the first chunk carrying content (a role-only chunk is reported apart); TPOT = (E2E − TTFT) /',
    '(output tokens − 1); ITL is every chunk gap; with --rate, latencies count from the scheduled',
    'send time and the client queue time is shown. Failures stay in the denominators. Prompts are',
    'exact Qwen3 lengths (chat template included) and checked against the usage the server reports.',
    'The API key is read from $INFERWATCH_API_KEY, else $OPENAI_API_KEY (or --api-key-env VAR).',
    'Writes DIR/<run>.json (vllm bench serve keys where the meaning matches) and DIR/<run>.html.',
    'Ctrl-C stops the run and still writes what was measured.',
  ].join('\n'),
  examples: [
    'inferwatch bench --target http://127.0.0.1:8080 --input-tokens 2048 --output-tokens 256 --concurrency 16 --requests 500',
    'inferwatch bench --target http://127.0.0.1:8080 --rate 20 --duration 2m --slo ttft=500ms,tpot=50ms --metrics http://127.0.0.1:9464/metrics --metrics http://127.0.0.1:8000/metrics',
    'inferwatch bench --target http://127.0.0.1:8080 --scenario long-context --metrics http://127.0.0.1:8000/metrics',
    'inferwatch bench --target http://127.0.0.1:8000 --sweep --requests 200',
    'inferwatch bench compare bench-results/a.json bench-results/b.json',
  ],
  async run(args, io) {
    if (args.positionals[0] === 'compare') return compare(args, io)
    if (args.positionals.length > 0)
      throw new AppError('USAGE', `unexpected argument "${args.positionals[0]}"`, {
        hint: 'the only subcommand is `inferwatch bench compare A.json B.json`',
      })
    return bench(args, io)
  },
}

function compare(args: ParsedArgs, io: CommandIo): number {
  const [, aPath, bPath] = args.positionals
  if (!aPath || !bPath || args.positionals.length > 3)
    throw new AppError('USAGE', 'bench compare takes two result files', {
      hint: 'inferwatch bench compare A.json B.json',
    })
  const a = readResultFile(resolve(io.cwd, aPath))
  const b = readResultFile(resolve(io.cwd, bPath))
  io.stdout(renderCompareTable(a, b))
  const dir = resolve(io.cwd, stringFlag(args, 'out') ?? dirname(bPath))
  const base = (p: string) => (p.split('/').pop() ?? p).replace(/\.json$/, '')
  const name = `compare-${base(aPath)}-vs-${base(bPath)}`
  const { htmlPath } = writeResults(dir, name, { a: a.title, b: b.title }, renderCompareHtml(a, b))
  io.stdout(`\nHTML: ${htmlPath}\n`)
  return 0
}

async function bench(args: ParsedArgs, io: CommandIo): Promise<number> {
  const target = urlFlag(args, 'target')
  if (!target)
    throw new AppError('USAGE', '--target is required', {
      hint: 'e.g. --target http://127.0.0.1:8080 (the proxy) or http://127.0.0.1:8000 (the engine)',
    })
  const baseUrl = target.href.replace(/\/$/, '')
  const keyVar = stringFlag(args, 'api-key-env')
  const apiKey = keyVar ? io.env[keyVar] : (io.env.INFERWATCH_API_KEY ?? io.env.OPENAI_API_KEY)
  if (keyVar && !apiKey)
    throw new AppError('USAGE', `--api-key-env ${keyVar}: the variable is not set`, {
      hint: `export ${keyVar}=...`,
    })
  const endpoint = choiceFlag(args, 'endpoint', ENDPOINTS) ?? 'chat'
  const scenarioName = choiceFlag(args, 'scenario', SCENARIOS)
  let model = stringFlag(args, 'model')
  let scenario: ScenarioDefaults | undefined
  if (!model || scenarioName) {
    const facts = await readTargetFacts(baseUrl, apiKey).catch((cause) => {
      throw new AppError(
        'BENCH_TARGET_UNREACHABLE',
        `cannot read ${baseUrl}/v1/models: ${(cause as Error).message}`,
        {
          cause,
          hint: 'start the server, check --target, or give --model',
        },
      )
    })
    model ??= facts.models[0]
    if (!model)
      throw new AppError('BENCH_TARGET_UNREACHABLE', `${baseUrl} lists no model`, {
        hint: 'give --model',
      })
    if (scenarioName === 'long-context')
      scenario = longContextScenario(
        facts,
        positiveIntFlag(args, 'long-from-tokens', 'tokens') ?? 100_000,
      )
    else if (scenarioName === 'chat') scenario = chatScenario(facts)
  }
  const inputTokens = positiveIntFlag(args, 'input-tokens', 'tokens')
  const outputTokens = positiveIntFlag(args, 'output-tokens', 'tokens')
  const requests = positiveIntFlag(args, 'requests', 'requests')
  const durationMs = durationFlag(args, 'duration')
  const concurrency = positiveIntFlag(args, 'concurrency', 'requests')
  const rate = positiveNumberFlag(args, 'rate')
  const burstiness = positiveNumberFlag(args, 'burstiness')
  const constant = stringFlag(args, 'arrivals') === 'constant'
  choiceFlag(args, 'arrivals', ['poisson', 'constant'] as const)
  const sweep = boolFlag(args, 'sweep')
  if (rate !== undefined && sweep)
    throw new AppError('USAGE', '--rate and --sweep exclude each other', {
      hint: 'a sweep picks its own rates',
    })
  const scenarioRate =
    rate === undefined && concurrency === undefined ? scenario?.ratePerSecond : undefined
  const theRate = rate ?? scenarioRate
  const options: BenchOptions = {
    target: {
      baseUrl,
      endpoint,
      model,
      ...(apiKey ? { apiKey } : {}),
      stream: !boolFlag(args, 'no-stream'),
      ignoreEos: !boolFlag(args, 'no-ignore-eos'),
      tokenIds: boolFlag(args, 'token-ids'),
    },
    load: {
      arrivals:
        theRate === undefined
          ? { kind: 'closed' }
          : constant
            ? { kind: 'constant', ratePerSecond: theRate }
            : { kind: 'gamma', ratePerSecond: theRate, burstiness: burstiness ?? 1 },
      maxConcurrency:
        concurrency ??
        scenario?.concurrency ??
        (theRate === undefined ? 1 : Number.POSITIVE_INFINITY),
      ...(requests !== undefined ? { requests } : {}),
      ...(durationMs !== undefined ? { durationMs } : {}),
      warmupRequests: positiveIntOrZero(args, 'warmup') ?? scenario?.warmupRequests ?? 1,
      timeoutMs: durationFlag(args, 'timeout') ?? 600_000,
      ...(positiveNumberFlag(args, 'max-error-rate', 1) !== undefined
        ? { maxErrorRate: positiveNumberFlag(args, 'max-error-rate', 1) as number }
        : {}),
      seed: positiveIntOrZero(args, 'seed') ?? 0,
    },
    prompts: {
      input:
        inputTokens !== undefined
          ? lengthFlag(args, 'input', inputTokens)
          : (scenario?.input ?? lengthFlag(args, 'input', 1024)),
      output:
        outputTokens !== undefined
          ? lengthFlag(args, 'output', outputTokens)
          : (scenario?.output ?? lengthFlag(args, 'output', 128)),
      sharedPrefixTokens:
        positiveIntOrZero(args, 'shared-prefix') ?? scenario?.sharedPrefixTokens ?? 0,
    },
    metricsUrls: ((args.values.metrics as string[] | undefined) ?? []).map((u) => urlFlagValue(u)),
    sampleEveryMs: durationFlag(args, 'sample-interval') ?? 1000,
    signal: io.signal,
  }
  if (options.load.requests === undefined && options.load.durationMs === undefined) {
    if (scenario) options.load.durationMs = scenario.durationMs
    else options.load.requests = 100
  }
  const slo = sloFlag(args)
  if (slo) options.slo = slo
  if (scenario) io.stderr(`scenario ${scenarioName}: ${scenario.why}\n`)
  if (!boolFlag(args, 'quiet')) options.onProgress = (p) => io.stderr(progressLine(p))
  const outDir = resolve(io.cwd, stringFlag(args, 'out') ?? 'bench-results')
  const a = options.load.arrivals
  const shape = sweep
    ? 'sweep'
    : a.kind === 'closed'
      ? `c${options.load.maxConcurrency}`
      : `${a.ratePerSecond}qps`
  const name = stringFlag(args, 'name') ?? runName({ endpoint, shape, model, atMs: Date.now() })
  io.stderr(`inferwatch bench: ${endpoint} on ${baseUrl}, model ${model}; building prompts\n`)

  let json: Record<string, unknown>
  let last: BenchRun
  if (sweep) {
    const result = await runSweep(
      options,
      positiveIntFlag(args, 'sweep-steps', 'steps') ?? 6,
      (run) => io.stdout(`${renderRun(run)}\n`),
    )
    const all = result.runs[1] ?? result.runs[0]
    if (!all) return 1
    last = all
    json = {
      ...benchJson(all, { run_name: name, scenario: scenarioName ?? null }),
      label: `sweep (${all.label})`,
      steps: result.runs.map((r) => runSummaryJson(r)),
      saturated_at: result.saturatedAt ?? null,
    }
  } else {
    last = await runBench(options)
    io.stdout(renderRun(last))
    json = benchJson(last, { run_name: name, scenario: scenarioName ?? null })
  }
  const html = renderReportHtml(parseResultFile(json, name))
  const { jsonPath, htmlPath } = writeResults(outDir, name, json, html)
  io.stdout(`\nJSON: ${jsonPath}\nHTML: ${htmlPath}\n`)
  if (last.stopReason === 'interrupted')
    io.stderr('interrupted: the results so far are written above\n')
  if (last.summary.completed === 0 && last.summary.failed > 0) {
    const first = last.records.find((r) => r.error)
    io.stderr(
      `error[BENCH_TARGET_UNREACHABLE]: no request succeeded (first error: ${first?.error}${first?.errorDetail ? `: ${first.errorDetail}` : ''})\nhint: check --target, --endpoint, --model and the API key variable\n`,
    )
    return 1
  }
  return 0
}

function positiveIntOrZero(args: ParsedArgs, name: string): number | undefined {
  const raw = stringFlag(args, name)
  if (raw === '0') return 0
  return positiveIntFlag(args, name, 'requests')
}

function urlFlagValue(raw: string): string {
  const u = urlFlag({ values: { metrics: raw }, positionals: [] }, 'metrics')
  return u?.href ?? raw
}

function progressLine(p: Progress): string {
  const t = (p.elapsedMs / 1000).toFixed(1).padStart(6)
  const ttft = p.ttftP95Ms === undefined ? '—' : `${p.ttftP95Ms.toFixed(1)} ms`
  return `[${t}s] done ${p.done}  in flight ${p.inFlight}${p.queued ? `  queued ${p.queued}` : ''}  errors ${p.errors}  ${p.ratePerSecond.toFixed(1)} req/s  TTFT p95 ${ttft}\n`
}
