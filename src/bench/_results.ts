// Every figure of a run, derived from the raw per-request timestamps. Definitions (README:
// `inferwatch bench`): TTFT to the first event carrying content (a chat stream's role-only chunk
// is reported apart); TPOT = (E2E − TTFT) / (output tokens − 1); ITL = every gap between content
// events, pooled; E2E to the last byte. In an open loop (a --rate) latencies count from the
// scheduled time, so a client-side backlog is in them; client queue time = sent − scheduled.
// Failed requests stay in every denominator that is about requests (success rate, goodput share).
import { describe } from './_stats.js'
import type { Distribution, RequestRecord, Slo } from './types.js'

export interface PerRequest {
  ok: boolean
  ttftMs?: number
  tpotMs?: number
  e2eMs?: number
  queueMs: number
}

export interface RunSummary {
  durationS: number
  completed: number
  failed: number
  timeouts: number
  aborted: number
  errorsByKind: Record<string, number>
  totalInputTokens: number
  totalOutputTokens: number
  requestThroughput: number
  outputThroughput: number
  totalTokenThroughput: number
  goodputRequests: number | undefined
  requestGoodput: number | undefined
  /** Good requests / (completed + failed). */
  sloAttainment: number | undefined
  ttft: Distribution
  tpot: Distribution
  itl: Distribution
  e2el: Distribution
  /** E2E of every finished request, failures at the time they failed. */
  e2elAll: Distribution
  clientQueue: Distribution
  /** Role-only chunk to first content, for streams that sent one. */
  roleToContent: Distribution
  /** Requests whose server-reported prompt tokens differ from the built length. */
  promptMismatches: number
  promptChecked: number
  maxConcurrencySeen: number
}

export function perRequest(r: RequestRecord, fromScheduled: boolean): PerRequest {
  const origin = fromScheduled ? r.scheduledMs : r.sentMs
  const first = r.chunkMs[0]
  const ok = !r.error && r.endMs !== undefined && first !== undefined
  const p: PerRequest = { ok, queueMs: r.sentMs - r.scheduledMs }
  if (!ok) return p
  p.ttftMs = (first as number) - origin
  p.e2eMs = (r.endMs as number) - origin
  if (r.outputTokens > 1) p.tpotMs = (p.e2eMs - p.ttftMs) / (r.outputTokens - 1)
  return p
}

export function meetsSlo(p: PerRequest, slo: Slo): boolean {
  if (!p.ok) return false
  if (slo.ttftMs !== undefined && !((p.ttftMs ?? Infinity) <= slo.ttftMs)) return false
  if (slo.tpotMs !== undefined && p.tpotMs !== undefined && !(p.tpotMs <= slo.tpotMs)) return false
  if (slo.e2eMs !== undefined && !((p.e2eMs ?? Infinity) <= slo.e2eMs)) return false
  return true
}

export function summarize(
  records: readonly RequestRecord[],
  options: { fromScheduled: boolean; slo?: Slo },
): RunSummary {
  const ttft: number[] = []
  const tpot: number[] = []
  const itl: number[] = []
  const e2e: number[] = []
  const e2eAll: number[] = []
  const queue: number[] = []
  const role: number[] = []
  const errorsByKind: Record<string, number> = {}
  let completed = 0
  let failed = 0
  let timeouts = 0
  let aborted = 0
  let inTok = 0
  let outTok = 0
  let good = 0
  let mismatches = 0
  let checked = 0
  let start = Number.POSITIVE_INFINITY
  let end = 0
  const edges: [number, number][] = []
  for (const r of records) {
    if (r.error === 'aborted') {
      aborted++
      continue
    }
    const p = perRequest(r, options.fromScheduled)
    start = Math.min(start, r.scheduledMs)
    end = Math.max(end, r.endMs ?? 0)
    edges.push([r.sentMs, 1], [r.endMs ?? r.sentMs, -1])
    queue.push(p.queueMs)
    const origin = options.fromScheduled ? r.scheduledMs : r.sentMs
    if (r.endMs !== undefined) e2eAll.push(r.endMs - origin)
    if (!p.ok) {
      failed++
      const kind = r.error ?? 'bad_stream'
      errorsByKind[kind] = (errorsByKind[kind] ?? 0) + 1
      if (kind === 'timeout') timeouts++
      continue
    }
    completed++
    inTok += r.serverInputTokens ?? r.inputTokens
    outTok += r.outputTokens
    if (r.serverInputTokens !== undefined) {
      checked++
      if (r.serverInputTokens !== r.inputTokens) mismatches++
    }
    ttft.push(p.ttftMs as number)
    e2e.push(p.e2eMs as number)
    if (p.tpotMs !== undefined) tpot.push(p.tpotMs)
    for (let i = 1; i < r.chunkMs.length; i++)
      itl.push((r.chunkMs[i] as number) - (r.chunkMs[i - 1] as number))
    if (r.roleChunkMs !== undefined) role.push((r.chunkMs[0] as number) - r.roleChunkMs)
    if (options.slo && meetsSlo(p, options.slo)) good++
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let level = 0
  let peak = 0
  for (const [, d] of edges) {
    level += d
    if (level > peak) peak = level
  }
  const durationS = end > start ? (end - start) / 1000 : 0
  const per = (x: number) => (durationS > 0 ? x / durationS : 0)
  const finished = completed + failed
  return {
    durationS,
    completed,
    failed,
    timeouts,
    aborted,
    errorsByKind,
    totalInputTokens: inTok,
    totalOutputTokens: outTok,
    requestThroughput: per(completed),
    outputThroughput: per(outTok),
    totalTokenThroughput: per(inTok + outTok),
    goodputRequests: options.slo ? good : undefined,
    requestGoodput: options.slo ? per(good) : undefined,
    sloAttainment: options.slo && finished > 0 ? good / finished : undefined,
    ttft: describe(ttft),
    tpot: describe(tpot),
    itl: describe(itl),
    e2el: describe(e2e),
    e2elAll: describe(e2eAll),
    clientQueue: describe(queue),
    roleToContent: describe(role),
    promptMismatches: mismatches,
    promptChecked: checked,
    maxConcurrencySeen: peak,
  }
}
