// The simulated vLLM scheduler: continuous batching in simulated time, one timer for the whole
// engine (not one per token or per request). Each step batches one decode token for every running
// request that has finished its prefill plus prefill chunks for the others, up to
// `maxNumBatchedTokens`; KV is held in 16-token blocks; a waiting request is admitted (FCFS) when
// its prompt plus one token fits in the free blocks; when a running request needs a new block and
// none is free, the newest running request is preempted by recompute (its blocks are freed and it
// goes back to the head of the queue), as vLLM V1's scheduler does
// (https://github.com/vllm-project/vllm/blob/main/vllm/v1/core/sched/scheduler.py).
// Step time (simulated seconds) = (weight bytes + KV bytes in use) / memory bandwidth (decode is
// bandwidth-bound) + prefill tokens x 2 x active params / FLOP/s (prefill is compute-bound).

export interface StepModel {
  kvBlocks: number
  blockSize: number
  maxNumSeqs: number
  maxNumBatchedTokens: number
  weightBytes: number
  kvBytesPerToken: number
  bandwidthBytesPerSecond: number
  activeParams: number
  flopsPerSecond: number
}

export type FinishReason = 'length' | 'stop'

export interface SimRequest {
  promptTokens: number
  /** Output tokens this request will generate. */
  targetTokens: number
  finishReason: FinishReason
  /** Simulated seconds. */
  arrivalS: number
  /** A token was produced at simulated time `atS` (index from 0). */
  onToken(index: number, atS: number): void
  onFinish(r: SimRequestState): void
}

export interface SimRequestState {
  req: SimRequest
  /** Tokens of the sequence already in the KV cache (prompt and output). */
  computed: number
  generated: number
  blocks: number
  firstScheduledS: number | undefined
  firstTokenS: number | undefined
  lastTokenS: number | undefined
  finishS: number | undefined
  /** Per-token gaps (simulated seconds) since the previous token. */
  gapsS: number[]
  aborted: boolean
}

export interface SchedulerStats {
  running: number
  waiting: number
  usedBlocks: number
  preemptions: number
  /** Whether a step is executing now. */
  busy: boolean
  /** Sequences in the latest step. */
  lastBatch: number
}

export interface Scheduler {
  submit(req: SimRequest): SimRequestState
  abort(s: SimRequestState): void
  stats(): SchedulerStats
  /** Step time (simulated seconds) for a batch: exposed for tests and the CLI's summary. */
  stepSeconds(decodeSeqs: number, kvTokens: number, prefillTokens: number): number
  close(): void
}

interface PlannedStep {
  startS: number
  endS: number
  /** Prefill tokens per request in this step (0: a decode token). */
  work: Map<SimRequestState, number>
}

export function createScheduler(
  model: StepModel,
  clock: { nowS(): number; wallMsUntil(simS: number): number },
  onStep?: () => void,
): Scheduler {
  const waiting: SimRequestState[] = []
  const running: SimRequestState[] = []
  let usedBlocks = 0
  let preemptions = 0
  let engineS = 0
  let step: PlannedStep | undefined
  let timer: NodeJS.Timeout | undefined
  let closed = false
  let lastBatch = 0

  const blocksFor = (tokens: number) => Math.ceil(tokens / model.blockSize)
  const seqTokens = (s: SimRequestState) => s.req.promptTokens + s.generated
  const stepSeconds = (decodeSeqs: number, kvTokens: number, prefillTokens: number) =>
    (decodeSeqs > 0 || prefillTokens > 0
      ? (model.weightBytes + kvTokens * model.kvBytesPerToken) / model.bandwidthBytesPerSecond
      : 0) +
    (prefillTokens * 2 * model.activeParams) / model.flopsPerSecond

  function release(s: SimRequestState) {
    usedBlocks -= s.blocks
    s.blocks = 0
  }

  function admit() {
    while (waiting.length > 0 && running.length < model.maxNumSeqs) {
      const s = waiting[0] as SimRequestState
      const need = blocksFor(seqTokens(s) + 1)
      if (need > model.kvBlocks - usedBlocks) break
      waiting.shift()
      s.blocks = need
      usedBlocks += need
      running.push(s)
    }
  }

  function preemptNewest(): boolean {
    const victim = running.pop()
    if (!victim) return false
    release(victim)
    victim.computed = 0
    waiting.unshift(victim)
    preemptions++
    return true
  }

  function plan(startS: number): PlannedStep | undefined {
    admit()
    if (running.length === 0) return undefined
    const work = new Map<SimRequestState, number>()
    let budget = model.maxNumBatchedTokens
    let decodes = 0
    let prefill = 0
    let kv = 0
    const decoding = (s: SimRequestState) => s.generated > 0 && s.computed === seqTokens(s) - 1
    for (const s of running) {
      kv += s.computed
      if (decoding(s)) {
        work.set(s, 1)
        decodes++
        budget--
      }
    }
    for (const s of running) {
      if (decoding(s) || budget <= 0) continue
      const chunk = Math.min(seqTokens(s) - s.computed, budget)
      work.set(s, chunk)
      budget -= chunk
      prefill += chunk
    }
    for (const s of work.keys()) s.firstScheduledS ??= startS
    lastBatch = work.size
    return { startS, endS: startS + stepSeconds(decodes, kv, prefill), work }
  }

  function commit(p: PlannedStep) {
    const t = p.endS
    for (const [s, chunk] of p.work) {
      if (s.aborted || !running.includes(s)) continue
      // Prefill chunks (or a decode step's one token) fill the KV; the step that completes the
      // sequence's KV samples the next token. A preempted request recomputes its whole sequence.
      s.computed += chunk
      if (s.computed < seqTokens(s)) continue
      const gap = s.lastTokenS === undefined ? undefined : t - s.lastTokenS
      if (gap !== undefined) s.gapsS.push(gap)
      s.firstTokenS ??= t
      s.lastTokenS = t
      const i = s.generated++
      s.req.onToken(i, t)
      if (s.generated >= s.req.targetTokens) {
        s.finishS = t
        running.splice(running.indexOf(s), 1)
        release(s)
        s.req.onFinish(s)
        continue
      }
      // The next token needs a slot in the KV cache.
      const need = blocksFor(seqTokens(s) + 1)
      while (need > s.blocks && running.includes(s)) {
        if (model.kvBlocks - usedBlocks >= need - s.blocks) {
          usedBlocks += need - s.blocks
          s.blocks = need
        } else if (!preemptNewest()) break
      }
    }
  }

  function tick() {
    timer = undefined
    if (closed) return
    const now = clock.nowS()
    for (let n = 0; n < 100_000; n++) {
      if (!step) {
        step = plan(engineS)
        if (!step) break
      }
      if (step.endS > now) break
      engineS = step.endS
      const done = step
      step = undefined
      commit(done)
    }
    onStep?.()
    if (step) timer = setTimeout(tick, Math.max(0, clock.wallMsUntil(step.endS)))
  }

  function wake() {
    if (closed) return
    if (!step) engineS = Math.max(engineS, clock.nowS())
    if (!timer) timer = setTimeout(tick, 0)
  }

  return {
    submit(req) {
      const s: SimRequestState = {
        req,
        computed: 0,
        generated: 0,
        blocks: 0,
        firstScheduledS: undefined,
        firstTokenS: undefined,
        lastTokenS: undefined,
        finishS: undefined,
        gapsS: [],
        aborted: false,
      }
      waiting.push(s)
      wake()
      return s
    },
    abort(s) {
      if (s.aborted || s.finishS !== undefined) return
      s.aborted = true
      const w = waiting.indexOf(s)
      if (w >= 0) waiting.splice(w, 1)
      const r = running.indexOf(s)
      if (r >= 0) {
        running.splice(r, 1)
        release(s)
      }
      wake()
    },
    stats: () => ({
      running: running.length,
      waiting: waiting.length,
      usedBlocks,
      preemptions,
      busy: step !== undefined,
      lastBatch: step ? lastBatch : 0,
    }),
    stepSeconds,
    close() {
      closed = true
      if (timer) clearTimeout(timer)
      timer = undefined
      for (const s of [...waiting, ...running]) s.aborted = true
      waiting.length = 0
      running.length = 0
      usedBlocks = 0
    },
  }
}
