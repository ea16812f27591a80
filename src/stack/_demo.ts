import type { EngineSimulator } from '../sim/index.js'
import type { AlertWatch } from './_alert-watch.js'
import type { DemoTiming } from './_demo-config.js'
import { type ChatRequest, createDemoClient, keepInFlight, sendAtRate } from './_demo-traffic.js'

// The `up --demo` traffic driver: phases of simulated load, each held until the alert it is
// about fires, then eased until it resolves. Rates and durations are in simulated seconds (the
// simulator's clock, --speed times the wall clock); alert `for` durations are already scaled.

export const DEMO_PHASES = ['steady', 'burst', 'squeeze', 'leak', 'crash'] as const
export type DemoPhase = (typeof DEMO_PHASES)[number]

/** The client whose long-context batch job the burst is: its `user` and x-app-name. */
export const BURST_CLIENT = 'batch-summarizer'
const LONG_PROMPT = 104_000
const GIB = 1024 ** 3
const LEAK_BYTES = 4 * GIB
/** Chat requests per simulated second outside the incidents. */
const STEADY_RATE = 0.25

export interface DemoDriverOptions {
  sim: EngineSimulator
  proxyUrl: string
  model: string
  timing: DemoTiming
  alerts: AlertWatch
  phases: readonly DemoPhase[]
  say: (line: string) => void
  signal: AbortSignal
  fetch?: typeof globalThis.fetch
  /** Resolves when the proxy's meter has recorded every ended exchange (ProxyServiceHandle). */
  settled?: () => Promise<void>
}

export interface DemoOutcome {
  /** Alerts each phase waited for, and whether they fired and resolved. */
  expected: { alert: string; fired: boolean; resolved: boolean }[]
  requests: { sent: number; ok: number; failed: number; cancelled: number }
}

const SQUEEZE_LANES = 64
const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo))
const chat = (): ChatRequest => ({ promptTokens: 300, maxTokens: 64 })
const tiny = (): ChatRequest => ({ promptTokens: 60, maxTokens: 8 })

export async function runDemoDriver(o: DemoDriverOptions): Promise<DemoOutcome> {
  const { timing, alerts, signal, sim } = o
  const speed = timing.speed
  const client = createDemoClient(o.proxyUrl, o.model, o.fetch)
  const wallMs = (simS: number) => (simS / speed) * 1000
  /** How long to wait for an alert: its `for`, a few evaluations, and the load's own ramp. */
  // A loaded machine serves the simulator's long prompts slower than --speed asks (counting
  // 100K tokens takes CPU, not simulated time): two extra minutes before giving up on one.
  const patience = (alert: string, rampSimS: number) =>
    (timing.forS(alert) + 6 * timing.scrapeS) * 1000 + wallMs(rampSimS) + 120_000
  const expected: DemoOutcome['expected'] = []
  const expect = (alert: string) => {
    const e = { alert, fired: false, resolved: false }
    expected.push(e)
    return e
  }
  const firing = (...names: string[]) => names.some((n) => alerts.state(n) === 'firing')
  const quiet = (...names: string[]) =>
    names.every((n) => alerts.state(n) !== 'firing' && alerts.state(n) !== 'pending')
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms)
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t)
          r()
        },
        { once: true },
      )
    })

  // The cause stays until Alertmanager has had time to notify: the symptom of a demo that stopped
  // the moment its alert fired could resolve inside group_wait, and nobody would be told.
  const holdForNotification = (fired: boolean) =>
    fired ? sleep(timing.notifyS * 1000) : Promise.resolve()

  // Background chat at `chatRate` requests per simulated second, for every phase.
  let chatRate = STEADY_RATE
  let chatMake = chat
  const chatStop = new AbortController()
  const stopChat = () => chatStop.abort()
  signal.addEventListener('abort', stopChat, { once: true })
  const background = sendAtRate(
    client,
    () => chatRate * speed,
    () => chatMake(),
    chatStop.signal,
  )
  const n = o.phases.length
  let i = 0
  const phase = (text: string) => o.say(`\nphase ${++i}/${n} · ${text}`)

  const waitFor = async (names: string[], all: boolean, ms: number, test?: () => boolean) =>
    alerts.until(
      () => (test ? test() : all ? names.every((x) => firing(x)) : firing(...names)),
      signal,
      ms,
    )

  try {
    for (const p of o.phases) {
      if (signal.aborted) break
      if (p === 'steady') {
        phase(
          `steady chat: short prompts at ${STEADY_RATE} requests/s; "${BURST_CLIENT}" sends one long document; every alert stays quiet`,
        )
        // The first long request creates the context_class="long" series; rate() counts the
        // increases after it, so the burst is measured from its first request.
        void client.send({ promptTokens: LONG_PROMPT, maxTokens: 16, client: BURST_CLIENT }, signal)
        await sleep(wallMs(20))
      } else if (p === 'burst') {
        const e = expect('LLMLongContextOverload')
        phase(
          `long-context burst: client "${BURST_CLIENT}" (user field and x-app-name header) sends ${LONG_PROMPT.toLocaleString('en-US')}-token prompts one after another while chat is quiet`,
        )
        o.say(`  waiting for LLMLongContextOverload (over 30 % of requests at 100,000+ tokens)`)
        chatRate = 0
        await o.settled?.()
        const stop = new AbortController()
        // One document at a time, each sent once the meter has counted the last: counting
        // 100K tokens takes CPU seconds, and a queue of them would outlast the token worker's
        // timeout (the request would be metered as model "unknown").
        const burst = (async () => {
          while (!stop.signal.aborted) {
            await client.send(
              { promptTokens: LONG_PROMPT, maxTokens: 16, client: BURST_CLIENT },
              stop.signal,
            )
            await o.settled?.()
          }
        })()
        e.fired = await waitFor([e.alert], true, patience(e.alert, 120))
        await holdForNotification(e.fired)
        stop.abort()
        await burst
        o.say('  the batch job stops; short chat dilutes the long-context share')
        chatRate = 3
        chatMake = tiny
        e.resolved = await alerts.until(() => quiet(e.alert), signal, patience(e.alert, 60))
        chatRate = STEADY_RATE
        chatMake = chat
      } else if (p === 'squeeze') {
        const kv = expect('LLMKVCacheHigh')
        const backlog = expect('LLMBacklogHigh')
        phase(
          `KV-cache squeeze: ${SQUEEZE_LANES} concurrent 4,000-8,000-token prompts with long answers; the KV cache (${sim.kvTokenBudget.toLocaleString('en-US')} tokens) fills and requests queue`,
        )
        o.say('  waiting for LLMKVCacheHigh and LLMBacklogHigh (or LLMQueueTimeHigh)')
        const stop = new AbortController()
        const squeeze = keepInFlight(
          client,
          SQUEEZE_LANES,
          // Mixed sizes keep the requests from finishing in waves: the cache stays full.
          () => ({ promptTokens: between(4000, 8000), maxTokens: between(256, 1024) }),
          stop.signal,
        )
        const ms = patience('LLMKVCacheHigh', 90)
        kv.fired = await waitFor([kv.alert], true, ms)
        backlog.fired = await waitFor([], false, ms, () =>
          firing('LLMBacklogHigh', 'LLMQueueTimeHigh'),
        )
        if (!firing('LLMBacklogHigh') && firing('LLMQueueTimeHigh'))
          backlog.alert = 'LLMQueueTimeHigh'
        await holdForNotification(kv.fired || backlog.fired)
        stop.abort()
        await squeeze
        o.say('  the squeeze ends (clients cancel); the cache drains')
        const ok = await alerts.until(() => quiet('LLMKVCacheHigh', backlog.alert), signal, ms)
        kv.resolved = ok || quiet('LLMKVCacheHigh')
        backlog.resolved = ok || quiet(backlog.alert)
      } else if (p === 'leak') {
        const e = expect('LLMGPUMemoryHigh')
        phase(
          'GPU memory leak: another process on the card grows to 4 GiB (nvidia-smi lists it next to the engine)',
        )
        o.say('  waiting for LLMGPUMemoryHigh (over 92 % of GPU memory)')
        const started = Date.now()
        const ramp = setInterval(() => {
          const f = Math.min(1, (Date.now() - started) / wallMs(20))
          sim.faults.setForeignGpuMemoryBytes(Math.round(LEAK_BYTES * f))
        }, 100)
        e.fired = await waitFor([e.alert], true, patience(e.alert, 30))
        await holdForNotification(e.fired)
        clearInterval(ramp)
        o.say('  the leaking process exits; its memory is released')
        sim.faults.setForeignGpuMemoryBytes(0)
        e.resolved = await alerts.until(() => quiet(e.alert), signal, patience(e.alert, 30))
      } else if (p === 'crash') {
        const e = expect('LLMEngineDown')
        const downS = (timing.forS(e.alert) + 5 * timing.scrapeS + 3) * speed
        phase(
          `engine crash: the engine process dies and comes back after ${Math.round(downS)} s (simulated), then loads its weights`,
        )
        chatRate = 0
        for (let t = 0; t < 300 && client.inFlight() > 0 && !signal.aborted; t++) await sleep(100)
        sim.faults.crash(downS * 1000)
        o.say('  waiting for LLMEngineDown (clients hold their requests while it is down)')
        e.fired = await waitFor([e.alert], true, patience(e.alert, downS))
        await alerts.until(() => sim.state().phase === 'ready', signal, wallMs(downS + 120))
        o.say('  the engine is back; chat resumes')
        chatRate = STEADY_RATE
        e.resolved = await alerts.until(() => quiet(e.alert), signal, patience(e.alert, 30))
      }
    }
  } catch (err) {
    stopChat()
    throw err
  }
  // The background chat keeps running until the caller's signal aborts.
  void background
  return {
    expected,
    requests: {
      sent: client.stats.sent,
      ok: client.stats.ok,
      failed: client.stats.failed,
      cancelled: client.stats.cancelled,
    },
  }
}
