// The run as JSON: `vllm bench serve`'s keys where the meaning matches (durations in seconds,
// latencies in ms, per-request `ttfts`/`itls`/`latencies` in seconds as it writes them), then
// what it does not have: client queue time, the role-only chunk, goodput share, prompt checks,
// the monitoring cross-check, gauge samples and every request's raw timestamps.
import { readVersion } from '../shared/index.js'
import type { BenchRun } from './run-bench.js'
import type { Distribution } from './types.js'

const r3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null)

function dist(prefix: string, d: Distribution): Record<string, number | null> {
  return {
    [`mean_${prefix}_ms`]: r3(d.mean),
    [`median_${prefix}_ms`]: r3(d.p50),
    [`std_${prefix}_ms`]: r3(d.std),
    [`p90_${prefix}_ms`]: r3(d.p90),
    [`p95_${prefix}_ms`]: r3(d.p95),
    [`p99_${prefix}_ms`]: r3(d.p99),
    [`p99.9_${prefix}_ms`]: r3(d.p999),
  }
}

export function runSummaryJson(run: BenchRun): Record<string, unknown> {
  const s = run.summary
  const a = run.load.arrivals
  return {
    ...(run.label ? { label: run.label } : {}),
    duration: r3(s.durationS),
    completed: s.completed,
    failed: s.failed,
    timeouts: s.timeouts,
    aborted: s.aborted,
    errors_by_kind: s.errorsByKind,
    total_input_tokens: s.totalInputTokens,
    total_output_tokens: s.totalOutputTokens,
    request_throughput: r3(s.requestThroughput),
    request_goodput: s.requestGoodput === undefined ? null : r3(s.requestGoodput),
    slo_attainment: s.sloAttainment === undefined ? null : r3(s.sloAttainment),
    output_throughput: r3(s.outputThroughput),
    total_token_throughput: r3(s.totalTokenThroughput),
    max_concurrency: Number.isFinite(run.load.maxConcurrency) ? run.load.maxConcurrency : null,
    max_concurrency_seen: s.maxConcurrencySeen,
    request_rate: a.kind === 'closed' ? 'inf' : a.ratePerSecond,
    burstiness: a.kind === 'gamma' ? a.burstiness : a.kind === 'constant' ? 'inf' : null,
    ...dist('ttft', s.ttft),
    ...dist('tpot', s.tpot),
    ...dist('itl', s.itl),
    ...dist('e2el', s.e2el),
    ...dist('e2el_all', s.e2elAll),
    ...dist('client_queue_time', s.clientQueue),
    ...dist('role_to_content', s.roleToContent),
    role_chunks: s.roleToContent.count,
    latency_origin: run.fromScheduled ? 'scheduled' : 'sent',
    prompt_tokens_checked: s.promptChecked,
    prompt_tokens_mismatched: s.promptMismatches,
    stop_reason: run.stopReason,
  }
}

export function benchJson(
  run: BenchRun,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const recs = run.records.filter((r) => r.error !== 'aborted')
  const origin = (r: (typeof recs)[number]) => (run.fromScheduled ? r.scheduledMs : r.sentMs)
  const sec = (x: number | undefined) => (x === undefined ? 0 : Math.round(x * 1e3) / 1e6)
  return {
    date: new Date(run.startedAtMs).toISOString(),
    tool: `inferwatch ${readVersion()}`,
    backend: run.target.endpoint,
    base_url: run.target.baseUrl,
    model_id: run.target.model,
    stream: run.target.stream,
    ...extra,
    ...runSummaryJson(run),
    input_lens: recs.map((r) => r.inputTokens),
    server_input_lens: recs.map((r) => r.serverInputTokens ?? null),
    output_lens: recs.map((r) => r.outputTokens),
    ttfts: recs.map((r) =>
      r.error || r.chunkMs[0] === undefined ? 0 : sec(r.chunkMs[0] - origin(r)),
    ),
    itls: recs.map((r) => r.chunkMs.slice(1).map((t, i) => sec(t - (r.chunkMs[i] as number)))),
    latencies: recs.map((r) => (r.error ? 0 : sec((r.endMs ?? 0) - origin(r)))),
    start_times: recs.map((r) => sec(r.sentMs)),
    errors: recs.map((r) =>
      r.error ? `${r.error}${r.errorDetail ? `: ${r.errorDetail}` : ''}` : '',
    ),
    inferwatch: {
      load: {
        ...run.load,
        maxConcurrency: Number.isFinite(run.load.maxConcurrency) ? run.load.maxConcurrency : null,
      },
      prompts: run.prompts,
      slo: run.slo ?? null,
      template_tokens: run.templateTokens,
      warmup_errors: run.warmupErrors,
      cross_check: run.crossCheck ?? null,
      samples: run.samples,
      requests: run.records.map((r) => ({
        i: r.index,
        scheduled_ms: r3(r.scheduledMs),
        sent_ms: r3(r.sentMs),
        headers_ms: r.headersMs === undefined ? null : r3(r.headersMs),
        role_chunk_ms: r.roleChunkMs === undefined ? null : r3(r.roleChunkMs),
        chunk_ms: r.chunkMs.map(r3),
        end_ms: r.endMs === undefined ? null : r3(r.endMs),
        status: r.status ?? null,
        error: r.error ?? null,
        input_tokens: r.inputTokens,
        server_input_tokens: r.serverInputTokens ?? null,
        requested_output_tokens: r.requestedOutputTokens,
        output_tokens: r.outputTokens,
        output_tokens_from: r.outputTokensFrom,
      })),
    },
  }
}
