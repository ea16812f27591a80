// The engine simulator (`inferwatch sim`, `inferwatch up --demo`): a real HTTP server that speaks
// one engine's API and /metrics dialect (vLLM by release, SGLang, TGI, llama.cpp) and behaves as
// the capacity model of `inferwatch plan` says the engine would on the chosen GPU: continuous
// batching with chunked prefill, KV blocks that fill, waiting and preemption, prefill bound by
// FLOPs and decode by memory bandwidth (_core.ts, _perf.ts), in simulated time `speed` times the
// wall clock (engine-side durations are simulated seconds). The card is simulated too, as the GPU
// collector reads it through nvidia-smi (_gpu.ts). A crash closes the port for `downMs` of
// simulated time; the engine then loads again (every route 503) and starts with fresh counters.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { closeHttpServer, listenHttp } from '../shared/index.js'
import { createActivityMeter } from './_activity.js'
import {
  type Capacity,
  CUDA_CONTEXT_BYTES,
  checkSimulatorOptions,
  resolveCapacity,
} from './_capacity.js'
import { cardFacts } from './_cards.js'
import { type CoreObserver, createEngineCore, type EngineCore, type SimClock } from './_core.js'
import { createDialectMetrics } from './_dialect-metrics.js'
import { resolveDialect } from './_dialects.js'
import { type Answer, createEngineApi, type EngineApi } from './_engine-api.js'
import type { EngineMetrics, MetricsContext } from './_engine-metrics.js'
import { answerLlm } from './_exchange.js'
import { createSimGpu } from './_gpu.js'
import { createKvPool } from './_kv.js'
import { createPerfModel } from './_perf.js'
import { createPromptCounter } from './_prompt-count.js'
import { parseScriptedRequest } from './_request.js'
import { llamaSlots, tokenizeAnswer } from './_side-routes.js'
import { createTokenIds } from './_token-ids.js'
import type {
  EngineSimulator,
  EngineSimulatorOptions,
  SimEngine,
  SimulatorPhase,
} from './simulator-types.js'

const PROCESS_NAMES: Record<SimEngine, string> = {
  vllm: 'VLLM::EngineCore',
  sglang: 'sglang::scheduler_TP0',
  tgi: '/opt/conda/bin/python3.11',
  llamacpp: '/app/llama-server',
}
const LOAD_BYTES_PER_S = 2e9
const STARTUP_S = 5

interface Life {
  core: EngineCore
  metrics: EngineMetrics
  pid: number
  inFlight: number
}

export async function startSimulator(options: EngineSimulatorOptions): Promise<EngineSimulator> {
  checkSimulatorOptions(options)
  const dialect = resolveDialect(options.engine, options.engineVersion)
  const cap: Capacity = resolveCapacity(options)
  const { plan } = cap
  const perf = createPerfModel(plan, cap.flopsPerSecond)
  const model = options.servedModelName ?? plan.model.id
  const speed = options.speed
  const wall0 = performance.now()
  const clock: SimClock = {
    nowS: () => ((performance.now() - wall0) / 1000) * speed,
    msUntil: (s) => ((s - clock.nowS()) / speed) * 1000,
  }
  const loadingS =
    options.loadingMs !== undefined
      ? options.loadingMs / 1000
      : STARTUP_S + cap.weightBytes / LOAD_BYTES_PER_S
  const counter = createPromptCounter()
  const ids = createTokenIds()
  const activity = createActivityMeter()
  const api: EngineApi = createEngineApi({
    dialect,
    model,
    hfId: plan.model.hfId,
    maxModelLen: cap.maxModelLen,
    kvTokenBudget: cap.kvTokenBudget,
    gpuMemoryUtilization: options.gpuMemoryUtilization,
    maxNumSeqs: cap.maxNumSeqs,
    maxBatchedTokens: cap.maxBatchedTokens,
    createdUnixS: Math.floor(Date.now() / 1000),
  })
  const usage = { requests: 0, promptTokens: 0, completionTokens: 0 }
  let phase: SimulatorPhase = 'ready'
  let pidSeq = 1000 + Math.floor(Math.random() * 3000)
  let life: Life
  let server: Server | undefined
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  let closed = false
  let seq = 0

  const newLife = (): Life => {
    const ctx: MetricsContext = {
      model,
      maxModelLen: cap.maxModelLen,
      kvBlocks: cap.kvBlocks,
      blockSize: cap.blockSize,
      kvTokenBudget: cap.kvTokenBudget,
      gpuMemoryUtilization: options.gpuMemoryUtilization,
      maxNumSeqs: cap.maxNumSeqs,
      startedUnixS: Date.now() / 1000,
      nowS: clock.nowS,
    }
    const metrics = createDialectMetrics(ctx, dialect)
    const observer: CoreObserver = {
      ...metrics.observer,
      step(startS, endS, tokens, timing, seqs, prefillTokens) {
        const d = Math.max(timing.seconds, 1e-9)
        activity.record(startS, endS, timing.computeSeconds / d, timing.memorySeconds / d)
        metrics.observer.step(startS, endS, tokens, timing, seqs, prefillTokens)
      },
    }
    const core = createEngineCore({
      perf,
      pool: createKvPool(cap.kvBlocks, cap.blockSize),
      maxNumSeqs: cap.maxNumSeqs,
      maxBatchedTokens: cap.maxBatchedTokens,
      policy: dialect.engine === 'vllm' || dialect.engine === 'sglang' ? 'ondemand' : 'reserve',
      clock,
      observer,
    })
    return { core, metrics, pid: pidSeq, inFlight: 0 }
  }
  life = newLife()
  let loadStartS = 0

  /** The engine process's memory now: loading ramps the weights in, then takes the rest. */
  const engineBytes = (): number => {
    if (phase === 'down') return 0
    if (phase === 'ready') return cap.engineBytes
    const t = clock.nowS() - loadStartS
    const weightsS = cap.weightBytes / LOAD_BYTES_PER_S
    return Math.min(
      cap.engineBytes,
      CUDA_CONTEXT_BYTES + cap.weightBytes * Math.min(1, t / weightsS),
    )
  }
  const gpu = createSimGpu({
    card: cardFacts(plan.gpu.id, plan.gpu.name),
    totalBytes: plan.gpu.memoryBytes,
    uuid: `GPU-${randomUUID()}`,
    pciBusId: '00000000:01:00.0',
    nowS: clock.nowS,
    activity,
    engine: () =>
      phase === 'down'
        ? undefined
        : { pid: life.pid, name: PROCESS_NAMES[dialect.engine], bytes: engineBytes() },
  })

  const send = (res: ServerResponse, a: Answer) =>
    void res.writeHead(a.status, { 'content-type': a.contentType }).end(a.body)

  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => resolve(Buffer.concat(chunks)))
      req.on('error', () => resolve(Buffer.concat(chunks)))
    })

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startS = clock.nowS()
    const current = life
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const method = req.method ?? 'GET'
    const body = method === 'POST' ? await readBody(req) : Buffer.alloc(0)
    const done = (status: number, failure?: 'validation' | 'overloaded') =>
      current.metrics.http({
        method,
        handler: path,
        status,
        durationS: clock.nowS() - startS,
        ...(failure ? { failure } : {}),
      })
    if (phase === 'loading') return send(res, api.loading(path))
    if (method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
      res.end(current.metrics.render(current.core.snapshot()))
      return
    }
    if (method === 'GET' && path === '/slots' && dialect.engine === 'llamacpp') {
      send(res, llamaSlots(cap.maxNumSeqs, cap.maxModelLen, current.core.snapshot().running))
      return done(200)
    }
    if (method === 'GET') {
      const info = api.info(path)
      if (info) {
        send(res, info)
        return done(info.status)
      }
    }
    if (
      method === 'POST' &&
      path === '/tokenize' &&
      (dialect.engine === 'vllm' || dialect.engine === 'llamacpp')
    )
      return send(res, await tokenizeAnswer(body, dialect.engine, cap.maxModelLen, ids, api))
    const llm = method === 'POST' ? api.llmPath(path) : undefined
    if (!llm) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ detail: 'Not Found' }))
      return done(404)
    }
    if (dialect.engine === 'tgi') current.metrics.arrived()
    const parsed = parseScriptedRequest(llm, body)
    if (!parsed || !api.accepts(parsed.format)) {
      const bad = api.invalid('the request body is not valid for this route')
      send(res, bad)
      current.metrics.http({
        method,
        handler: path,
        status: bad.status,
        durationS: 0,
        ...(bad.failure ? { failure: bad.failure } : {}),
      })
      return
    }
    parsed.model ??= model
    current.inFlight++
    try {
      const result = await answerLlm(
        res,
        parsed,
        {
          api,
          counter,
          core: current.core,
          metrics: current.metrics,
          maxModelLen: cap.maxModelLen,
          reserveWholeContext: dialect.engine === 'llamacpp',
          inFlight: () => current.inFlight,
          reported(p, c) {
            usage.requests++
            usage.promptTokens += p
            usage.completionTokens += c
          },
        },
        ++seq,
      )
      done(result.status, result.failure)
    } finally {
      current.inFlight--
    }
  }

  const listen = async (port: number): Promise<{ url: string; port: number }> => {
    const s = createServer((req, res) => {
      route(req, res).catch(() => res.destroy())
    })
    s.keepAliveTimeout = 5000
    s.on('connection', (sock: Socket) => {
      sockets.add(sock)
      sock.once('close', () => sockets.delete(sock))
    })
    const l = await listenHttp(s, {
      host: options.host,
      port,
      what: 'engine simulator',
      code: 'SIM_LISTEN_FAILED',
      flag: '--listen',
    })
    server = s
    return l
  }
  const first = await listen(options.port)
  const url = first.url
  const boundPort = first.port

  const later = (simMs: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t)
      if (!closed) fn()
    }, simMs / speed)
    timers.add(t)
  }

  const sim: EngineSimulator = {
    url,
    engine: dialect.engine,
    engineVersion: dialect.version,
    model,
    modelPath: plan.model.hfId,
    gpuName: cardFacts(plan.gpu.id, plan.gpu.name).name,
    maxModelLen: cap.maxModelLen,
    kvTokenBudget: cap.kvTokenBudget,
    maxNumSeqs: cap.maxNumSeqs,
    maxNumBatchedTokens: cap.maxBatchedTokens,
    engineMemoryBytes: cap.engineBytes,
    speed,
    timing: {
      prefillSeconds: (tokens) => perf.prefillSeconds(tokens, cap.maxBatchedTokens),
      decodeStepSeconds: (batch, ctx) => perf.decodeStepSeconds(batch, ctx),
    },
    gpu: {
      nvidiaSmi: (args) => gpu.nvidiaSmi(args),
      memory: () => gpu.memory(),
    },
    faults: {
      setForeignGpuMemoryBytes: (bytes) => gpu.setForeignBytes(bytes),
      crash(downMs) {
        if (closed || phase === 'down') return
        phase = 'down'
        life.core.kill()
        activity.reset()
        const dying = server
        server = undefined
        for (const s of sockets) s.destroy()
        if (dying) void closeHttpServer(dying)
        later(downMs, () => {
          // A new process: a new pid, memory from nothing, counters from zero once it is ready.
          pidSeq++
          loadStartS = clock.nowS()
          phase = 'loading'
          listen(boundPort).then(
            () =>
              later(loadingS * 1000, () => {
                life = newLife()
                phase = 'ready'
              }),
            () => {
              // The port was taken while down: stay down (refused), as a real restart would fail.
            },
          )
        })
      },
    },
    state() {
      const s = life.core.snapshot()
      return {
        running: phase === 'ready' ? s.running : 0,
        waiting: phase === 'ready' ? s.waiting : 0,
        kvCacheUsage: phase === 'ready' ? s.kvUsage : 0,
        preemptionsTotal: phase === 'ready' ? s.preemptions : 0,
        up: phase === 'ready',
        phase,
      }
    },
    usage: () => ({ ...usage }),
    warmTokenizer: () => counter.warm(),
    async close() {
      if (closed) return
      closed = true
      for (const t of timers) clearTimeout(t)
      timers.clear()
      life.core.kill()
      for (const s of sockets) s.destroy()
      if (server) await closeHttpServer(server)
      await counter.close()
      await ids.close()
    },
  }
  return sim
}
