// The simulated engine core: continuous batching in simulated time, one timer for the whole
// engine. Each step takes one decode token for every running sequence past its prefill, then
// prefill chunks, up to `maxBatchedTokens` (chunked prefill), then admits waiting requests in
// arrival order while the batch has room (`maxNumSeqs`) and their next chunk fits in the KV cache.
// KV policy `ondemand` (vLLM, SGLang) allocates blocks as sequences grow and, when none is free,
// preempts the newest running request by recompute: its blocks are freed and it goes back to the
// head of the queue, to recompute prompt and output so far (vLLM V1's scheduler,
// https://github.com/vllm-project/vllm/blob/main/vllm/v1/core/sched/scheduler.py; SGLang's
// retraction). Policy `reserve` (TGI's max_batch_total_tokens, llama.cpp's fixed slots) reserves
// a request's whole budget at admission and never preempts. A step lasts what the perf model says;
// tokens appear at its end. When the wall clock runs ahead (high speed, a busy event loop), due
// steps are replayed back to back at their own simulated times, so reported durations never
// depend on how late the timer fired.
import type { CoreOptions, CoreRequest, EngineCore, FinishReason } from './_core-types.js'
import type { StepShape } from './_perf.js'

export type * from './_core-types.js'

interface Scheduled {
  r: CoreRequest
  tokens: number
  prefill: boolean
}

interface Step {
  startS: number
  endS: number
  items: Scheduled[]
}

export function createEngineCore(o: CoreOptions): EngineCore {
  const { pool, clock, observer } = o
  const running: CoreRequest[] = []
  const waiting: CoreRequest[] = []
  const touched = new Set<CoreRequest>()
  let current: Step | undefined
  let timer: NodeJS.Timeout | undefined
  let preemptions = 0
  let seq = 0
  let dead = false

  const held = (r: CoreRequest) => r.blocks + (r.prefix?.blocks ?? 0)
  const reserveOf = (r: CoreRequest) => r.reserveTokens ?? r.promptTokens + r.targetTokens
  const freeKv = (r: CoreRequest) => {
    pool.release(r.blocks)
    r.blocks = 0
    if (r.prefix) pool.releasePrefix(r.prefix)
    r.prefix = undefined
  }

  const preempt = (victim: CoreRequest) => {
    running.splice(running.indexOf(victim), 1)
    freeKv(victim)
    victim.state = 'waiting'
    victim.computed = 0
    victim.prefillTarget = victim.promptTokens + victim.generated
    victim.preemptions++
    preemptions++
    waiting.unshift(victim)
    observer.preempted(victim)
  }

  /** Grows `r` to hold `tokens` tokens of KV, preempting the newest others; false if `r` itself
   * had to go. */
  const grow = (r: CoreRequest, tokens: number): boolean => {
    const need = pool.blocksFor(tokens) - held(r)
    if (need <= 0) return true
    while (!pool.allocate(need)) {
      const victim = running[running.length - 1]
      if (!victim) return false
      preempt(victim)
      if (victim === r) return false
    }
    r.blocks += need
    return true
  }

  const admit = (r: CoreRequest, atS: number, budget: number): number | undefined => {
    let hit = 0
    if (o.policy === 'ondemand' && r.prefixKey && r.computed === 0) {
      const e = pool.acquirePrefix(r.prefixKey)
      if (e) {
        const bs = pool.blockSize
        hit = Math.min(e.blocks * bs, Math.floor((r.prefillTarget - 1) / bs) * bs)
        if (hit > 0) r.prefix = e
        else pool.releasePrefix(e)
      }
    }
    r.computed = hit
    const tokens = Math.min(r.prefillTarget - r.computed, budget)
    const need =
      o.policy === 'reserve'
        ? pool.blocksFor(reserveOf(r))
        : pool.blocksFor(r.computed + tokens) - held(r)
    if (!pool.allocate(need)) {
      if (r.prefix) pool.releasePrefix(r.prefix)
      r.prefix = undefined
      r.computed = 0
      return undefined
    }
    r.blocks += need
    r.state = 'running'
    // A step replayed late (catching up simulated time) can start before this request arrived.
    r.scheduledS ??= Math.max(atS, r.arrivalS)
    r.cachedTokens = hit
    observer.admitted(r, r.prefillTarget, hit)
    return tokens
  }

  const build = (atS: number): Step | undefined => {
    let budget = o.maxBatchedTokens
    const live: Scheduled[] = []
    const before = preemptions
    // Oldest first: a preemption takes the newest, so nothing scheduled earlier is ever a victim.
    for (const r of running.slice()) {
      if (budget <= 0) break
      if (r.state !== 'running') continue
      const prefill = r.computed < r.prefillTarget
      const tokens = prefill ? Math.min(r.prefillTarget - r.computed, budget) : 1
      const kvTokens = prefill ? r.computed + tokens : r.promptTokens + r.generated
      if (o.policy === 'ondemand' && !grow(r, kvTokens)) continue
      live.push({ r, tokens, prefill })
      budget -= tokens
    }
    // vLLM V1 admits nothing in a step that had to preempt.
    const preempted = preemptions !== before
    while (!preempted && waiting.length > 0 && running.length < o.maxNumSeqs && budget > 0) {
      const r = waiting[0] as CoreRequest
      const tokens = admit(r, atS, budget)
      if (tokens === undefined) break
      waiting.shift()
      running.push(r)
      live.push({ r, tokens, prefill: true })
      budget -= tokens
    }
    if (live.length === 0) return undefined
    const shape: StepShape = { chunks: [], decodeSeqs: 0, decodeContextTokens: 0 }
    const chunks: { tokens: number; before: number }[] = []
    let total = 0
    let prefillTokens = 0
    for (const it of live) {
      total += it.tokens
      if (it.prefill) {
        prefillTokens += it.tokens
        chunks.push({ tokens: it.tokens, before: it.r.computed })
      } else {
        shape.decodeSeqs++
        shape.decodeContextTokens += it.r.promptTokens + it.r.generated
      }
    }
    shape.chunks = chunks
    const timing = o.perf.stepSeconds(shape)
    const endS = atS + Math.max(timing.seconds, 1e-6)
    observer.step(atS, endS, total, timing, live.length, prefillTokens)
    return { startS: atS, endS, items: live }
  }

  const finish = (r: CoreRequest, reason: FinishReason, atS: number) => {
    const i = running.indexOf(r)
    if (i !== -1) running.splice(i, 1)
    else {
      const w = waiting.indexOf(r)
      if (w !== -1) waiting.splice(w, 1)
    }
    freeKv(r)
    r.state = 'finished'
    r.finished = reason
    r.finishS = atS
    observer.finished(r)
    touched.add(r)
  }

  const complete = (step: Step) => {
    const t = step.endS
    for (const { r, tokens, prefill } of step.items) {
      if (r.state !== 'running') continue
      if (prefill) {
        r.computed += tokens
        if (r.computed < r.prefillTarget) continue
        if (r.prefixKey && !r.prefix && o.policy === 'ondemand') {
          const full = Math.min(r.blocks, Math.floor(r.promptTokens / pool.blockSize))
          const e = pool.publishPrefix(r.prefixKey, full)
          if (e) {
            r.blocks -= full
            r.prefix = e
          }
        }
      }
      const first = r.generated === 0
      r.generated++
      r.pendingTokens++
      if (first) {
        r.firstTokenS = t
        observer.firstToken(r)
      } else observer.token(r, t - (r.lastTokenS ?? t))
      r.lastTokenS = t
      touched.add(r)
      if (r.generated >= r.targetTokens) finish(r, r.finishReason, t)
    }
  }

  const flush = () => {
    if (touched.size === 0) return
    const list = [...touched]
    touched.clear()
    for (const r of list) r.sink.flush(r)
  }

  const arm = () => {
    if (timer || !current || dead) return
    const ms = clock.msUntil(current.endS)
    timer = setTimeout(tick, ms > 1 ? Math.ceil(ms) : 1)
  }

  /** Completes every step due by now; each next step starts where the previous ended. */
  const advance = (now: number) => {
    while (current && current.endS <= now) {
      const done = current
      current = undefined
      complete(done)
      current = build(done.endS)
    }
    if (!current) current = build(now)
  }

  function tick() {
    timer = undefined
    if (dead) return
    advance(clock.nowS())
    flush()
    arm()
  }

  const wake = () => {
    if (dead) return
    if (timer) {
      // A step is running: the new work joins a later step (the timer stays).
      return
    }
    advance(clock.nowS())
    flush()
    arm()
  }

  return {
    submit(spec) {
      const r: CoreRequest = {
        ...spec,
        id: ++seq,
        state: 'waiting',
        arrivalS: clock.nowS(),
        computed: 0,
        prefillTarget: spec.promptTokens,
        generated: 0,
        blocks: 0,
        prefix: undefined,
        cachedTokens: 0,
        preemptions: 0,
        scheduledS: undefined,
        firstTokenS: undefined,
        lastTokenS: undefined,
        finishS: undefined,
        finished: undefined,
        pendingTokens: 0,
      }
      if (r.targetTokens <= 0) {
        r.state = 'finished'
        r.finished = r.finishReason
        r.finishS = r.arrivalS
        queueMicrotask(() => r.sink.flush(r))
        return r
      }
      waiting.push(r)
      wake()
      return r
    },
    settlePrompt(r, tokens) {
      if (tokens === r.promptTokens) return
      const prefilling = r.generated === 0 && r.state !== 'finished'
      r.promptTokens = tokens
      if (prefilling) {
        r.prefillTarget = tokens
        if (r.computed >= tokens) r.computed = Math.max(0, tokens - 1)
      }
    },
    abort(r) {
      if (r.state === 'finished' || dead) return
      finish(r, 'abort', clock.nowS())
      touched.delete(r)
      wake()
    },
    snapshot() {
      let kvTokens = 0
      let reserved = 0
      for (const r of running) {
        kvTokens += r.computed < r.prefillTarget ? r.computed : r.promptTokens + r.generated
        reserved += reserveOf(r)
      }
      return {
        running: running.length,
        waiting: waiting.length,
        kvUsage: pool.usage(),
        usedBlocks: pool.usedBlocks(),
        kvTokens,
        reservedTokens: reserved,
        preemptions,
        busy: current !== undefined,
      }
    },
    kill() {
      dead = true
      if (timer) clearTimeout(timer)
      timer = undefined
      current = undefined
      running.length = 0
      waiting.length = 0
      touched.clear()
    },
  }
}
