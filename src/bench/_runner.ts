// The load loop: a closed loop (a request goes out when a slot frees) or an open one (arrivals on
// a schedule, waiting for a slot under --concurrency), warm-up first, until a request count, a
// duration, the error budget or the abort signal says stop. Every request keeps its scheduled
// time, so a backlog shows up as client queue time instead of vanishing (coordinated omission).
import { performance } from 'node:perf_hooks'
import { createWire, type Wire } from './_client.js'
import { buildRequestBody, endpointPath } from './_formats.js'
import type { PromptBuilder } from './_prompts.js'
import { createGapSampler, createLengthSampler } from './_shapes.js'
import type { LoadSpec, PromptSpec, RequestRecord, TargetSpec } from './types.js'

export type StopReason = 'requests' | 'duration' | 'error-budget' | 'interrupted'

export interface Progress {
  elapsedMs: number
  done: number
  inFlight: number
  queued: number
  errors: number
  /** Requests finished per second over the last few seconds. */
  ratePerSecond: number
  /** TTFT p95 of requests finished in the last few seconds (ms). */
  ttftP95Ms: number | undefined
}

export interface RunPlan {
  target: TargetSpec
  load: LoadSpec
  prompts: PromptSpec
  builder: PromptBuilder
  signal?: AbortSignal
  /** After warm-up, before the first measured request (scrape "before" here). */
  onMeasureStart?: () => Promise<void>
  onProgress?: (p: Progress) => void
  progressEveryMs?: number
}

export interface RunOutcome {
  records: RequestRecord[]
  /** performance.now() at the run's time zero; records are relative to it. */
  t0: number
  /** Wall clock (ms since epoch) at time zero. */
  startedAtMs: number
  stopReason: StopReason
  warmupErrors: number
}

const WINDOW_MS = 5000
const PREBUILT = 64
const PREBUILT_BYTES = 32 * 1024 * 1024

export async function runLoad(plan: RunPlan): Promise<RunOutcome> {
  const { target, load } = plan
  const wire = createWire({
    url: new URL(target.baseUrl),
    endpoint: target.endpoint,
    stream: target.stream,
    headers: target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {},
  })
  try {
    const inLen = createLengthSampler(plan.prompts.input, load.seed)
    const outLen = createLengthSampler(plan.prompts.output, load.seed + 1)
    const path = endpointPath(target.endpoint, target.stream)
    const make = (index: number, scheduledMs: number): { rec: RequestRecord; body: Buffer[] } => {
      const prompt = plan.builder.next(inLen())
      const out = outLen()
      return {
        body: buildRequestBody(target, prompt, out),
        rec: {
          index,
          scheduledMs,
          sentMs: scheduledMs,
          chunkMs: [],
          inputTokens: prompt.tokens,
          requestedOutputTokens: out,
          outputTokens: 0,
          outputTokensFrom: 'events',
        },
      }
    }
    const warmupErrors = await warmUp(plan, wire, path, make)
    // The first requests' bodies are built before time zero (and the builder's code is warm), so
    // the opening of the run is not late by their build time; later ones are built as they go out.
    const ahead: { rec: RequestRecord; body: Buffer[] }[] = []
    let aheadBytes = 0
    const first = Math.min(PREBUILT, load.requests ?? PREBUILT)
    while (ahead.length < first && aheadBytes < PREBUILT_BYTES) {
      const m = make(ahead.length, 0)
      ahead.push(m)
      aheadBytes += m.body.reduce((n, b) => n + b.length, 0)
    }
    let taken = 0
    const next: Make = (index, scheduledMs) => {
      const m =
        taken < ahead.length
          ? (ahead[taken++] as { rec: RequestRecord; body: Buffer[] })
          : make(index, scheduledMs)
      if (taken === ahead.length) ahead.length = 0
      m.rec.index = index
      m.rec.scheduledMs = scheduledMs
      m.rec.sentMs = scheduledMs
      return m
    }
    await plan.onMeasureStart?.()
    return { ...(await measure(plan, wire, path, next)), warmupErrors }
  } finally {
    wire.abortAll()
    wire.close()
  }
}

type Make = (index: number, scheduledMs: number) => { rec: RequestRecord; body: Buffer[] }

async function warmUp(plan: RunPlan, wire: Wire, path: string, make: Make): Promise<number> {
  const n = plan.load.warmupRequests
  let next = 0
  let errors = 0
  const width = Math.max(1, Math.min(n, plan.load.maxConcurrency))
  const lane = async () => {
    while (next < n && !plan.signal?.aborted) {
      next++
      const t0 = performance.now()
      const { rec, body } = make(-1, 0)
      await wire.send(path, body, rec, t0, plan.load.timeoutMs)
      if (rec.error) errors++
    }
  }
  await Promise.all(Array.from({ length: width }, lane))
  return errors
}

function measure(
  plan: RunPlan,
  wire: Wire,
  path: string,
  make: Make,
): Promise<Omit<RunOutcome, 'warmupErrors'>> {
  const { load } = plan
  const records: RequestRecord[] = []
  const t0 = performance.now()
  const startedAtMs = Date.now()
  const now = () => performance.now() - t0
  const gap = createGapSampler(load.arrivals, load.seed + 2)
  const queue: number[] = []
  let queueHead = 0
  let inFlight = 0
  let scheduled = 0
  let finished = 0
  let failed = 0
  let stop: StopReason | undefined
  let nextArrival = 0
  const recent: { at: number; ttft: number | undefined }[] = []

  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined
    let immediate: NodeJS.Immediate | undefined
    const progress = setInterval(() => plan.onProgress?.(snapshot()), plan.progressEveryMs ?? 1000)
    progress.unref()

    const mayIssue = (atMs: number): boolean => {
      if (stop) return false
      if (load.requests !== undefined && scheduled >= load.requests) {
        stop = 'requests'
        return false
      }
      if (load.durationMs !== undefined && atMs >= load.durationMs) {
        stop = 'duration'
        return false
      }
      return true
    }
    const settle = () => {
      if (!stop || inFlight > 0) return
      if (timer) clearTimeout(timer)
      if (immediate) clearImmediate(immediate)
      clearInterval(progress)
      plan.signal?.removeEventListener('abort', onAbort)
      plan.onProgress?.(snapshot())
      resolve({ records, t0, startedAtMs, stopReason: stop })
    }
    const launch = (scheduledMs: number) => {
      const { rec, body } = make(records.length, scheduledMs)
      records.push(rec)
      inFlight++
      void wire.send(path, body, rec, t0, load.timeoutMs).then(() => {
        inFlight--
        if (rec.error !== 'aborted') {
          finished++
          if (rec.error) failed++
          const first = rec.chunkMs[0]
          recent.push({
            at: rec.endMs ?? 0,
            ttft: rec.error || first === undefined ? undefined : first - rec.sentMs,
          })
          if (
            load.maxErrorRate !== undefined &&
            !stop &&
            finished >= 10 &&
            failed / finished > load.maxErrorRate
          ) {
            stop = 'error-budget'
            queueHead = queue.length
          }
        }
        pump()
        settle()
      })
    }
    const pump = () => {
      if (!gap) {
        while (inFlight < load.maxConcurrency && mayIssue(now())) {
          scheduled++
          launch(now())
        }
        return
      }
      while (queueHead < queue.length && inFlight < load.maxConcurrency && !isInterrupted()) {
        launch(queue[queueHead++] as number)
      }
      if (queueHead > 4096 && queueHead * 2 > queue.length) {
        queue.splice(0, queueHead)
        queueHead = 0
      }
    }
    const isInterrupted = () => stop === 'interrupted' || stop === 'error-budget'
    // Open loop: enqueue every arrival that is due, then sleep until the next one. Timers fire
    // late, never early, and at best to the millisecond: arrivals closer than that go out
    // together, up to ~1 ms late (shown as client queue time), rather than spinning a core.
    const tick = () => {
      timer = undefined
      immediate = undefined
      const t = now()
      while (nextArrival <= t && mayIssue(nextArrival)) {
        queue.push(nextArrival)
        scheduled++
        nextArrival += (gap as () => number)()
      }
      pump()
      if (stop) return settle()
      const wait = nextArrival - now()
      if (wait > 0.25) timer = setTimeout(tick, Math.max(1, Math.floor(wait)))
      else immediate = setImmediate(tick)
    }
    const onAbort = () => {
      stop = 'interrupted'
      queueHead = queue.length
      wire.abortAll()
      settle()
    }
    const snapshot = (): Progress => {
      const t = now()
      while (recent.length > 0 && (recent[0]?.at ?? 0) < t - WINDOW_MS) recent.shift()
      const ttfts = recent
        .map((r) => r.ttft)
        .filter((x): x is number => x !== undefined)
        .sort((a, b) => a - b)
      const span = Math.min(WINDOW_MS, t)
      return {
        elapsedMs: t,
        done: finished,
        inFlight,
        queued: queue.length - queueHead,
        errors: failed,
        ratePerSecond: span > 0 ? (recent.length * 1000) / span : 0,
        ttftP95Ms: ttfts.length
          ? ttfts[Math.min(ttfts.length - 1, Math.floor(ttfts.length * 0.95))]
          : undefined,
      }
    }

    if (plan.signal?.aborted) {
      stop = 'interrupted'
      return settle()
    }
    plan.signal?.addEventListener('abort', onAbort, { once: true })
    if (gap) tick()
    else pump()
    settle()
  })
}
