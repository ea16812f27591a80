// The engine simulator (`inferwatch sim`, `inferwatch up --demo`): a vLLM stand-in on node:http
// whose behaviour comes from the capacity model in src/plan — KV token budget, weights and memory
// bandwidth of the model on the GPU — run by the continuous-batching scheduler in _scheduler.ts in
// simulated time (`speed` times faster than the wall clock; engine-side durations in /metrics are
// simulated seconds). Prompt tokens are estimated as UTF-8 bytes / 4 (or the number of token ids
// given): no tokenizer is loaded per request. A request without max_tokens generates
// min(256, room left in max_model_len) tokens and finishes with "stop" (the model "ends" its
// answer); with max_tokens it generates exactly that many and finishes with "length".
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { ExecFileFn } from '../../gpu/index.js'
import { planCapacity, resolveGpu } from '../../plan/index.js'
import { AppError, closeHttpServer, listenHttp } from '../../shared/index.js'
import { renderStreamHead, renderStreamTail, type ScriptedExchange } from '../_formats.js'
import { parseScriptedRequest, type ScriptedRequest } from '../_request.js'
import { scriptedTokenText } from '../scripted-engine.js'
import type { Simulator, SimulatorOptions } from '../simulator-types.js'
import { contextLengthError, errorBody, renderToken, renderWholeResponse } from './_api.js'
import { createSimGpu } from './_gpu.js'
import { createEngineMetrics, type EngineMetrics } from './_metrics.js'
import { createScheduler, type Scheduler, type SimRequestState } from './_scheduler.js'

/** Latest vLLM release whose metric names are exported by default. */
export const DEFAULT_ENGINE_VERSION = '0.11.0'
export const DEFAULT_MAX_NUM_SEQS = 256
/** vLLM V1's default token budget per step for online serving with chunked prefill. */
export const MAX_NUM_BATCHED_TOKENS = 8192
const DEFAULT_OUTPUT_TOKENS = 256
/** Simulated seconds after a restart during which /health answers 503 (weights loading). */
const LOADING_SECONDS = 2

// Dense bf16 tensor throughput (FLOP/s, no sparsity) from the vendor spec sheets, rounded down
// for the RTX 4090 D (about 150 TFLOP/s against the 4090's 165): prefill is compute-bound.
const FLOPS: Record<string, number> = {
  'rtx-4090d': 150e12,
  'rtx-4090': 165e12,
  l40s: 362e12,
  'a100-40gb': 312e12,
  'a100-80gb': 312e12,
  'h100-80gb': 989e12,
  h200: 989e12,
}

/** The capacity facts a simulator runs on (also printed by `inferwatch sim`). */
export function resolveSimulatorPlan(options: SimulatorOptions) {
  const input = {
    model: options.model,
    gpu: options.gpu,
    gpuMemoryUtilization: options.gpuMemoryUtilization,
  }
  const first = planCapacity(input)
  if (first.kvTokenBudget < first.blockSizeTokens)
    throw new AppError('USAGE', `vLLM would not start: ${first.notes[0] ?? 'no KV cache left'}`, {
      hint: 'run `inferwatch plan` with the same --model, --gpu and --gpu-memory-utilization',
    })
  const maxModelLen = options.maxModelLen ?? first.suggestedMaxModelLen
  const plan = planCapacity({ ...input, maxModelLen })
  if (!plan.maxModelLenFits || maxModelLen > plan.model.maxContextTokens)
    throw new AppError(
      'USAGE',
      `vLLM would not start with --max-model-len ${maxModelLen}: ${plan.notes[0] ?? ''}`,
      { hint: `pass --max-model-len ${plan.suggestedMaxModelLen} or less` },
    )
  const gpu = resolveGpu(options.gpu)
  return { plan, gpu, maxModelLen, flopsPerSecond: FLOPS[gpu.id] ?? 150e12 }
}

interface Life {
  server: Server
  sockets: Set<Socket>
  scheduler: Scheduler
  metrics: EngineMetrics
  readyAtMs: number
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  if (options.engine !== 'vllm')
    throw new AppError(
      'USAGE',
      `the engine simulator supports only vllm, got "${options.engine}"`,
      {
        hint: 'use --engine vllm',
      },
    )
  if (!(options.speed > 0) || !Number.isFinite(options.speed))
    throw new AppError('USAGE', `speed must be a number above 0, got ${options.speed}`, {
      hint: 'e.g. --speed 10',
    })
  const speed = options.speed
  const { plan, gpu: gpuProfile, maxModelLen, flopsPerSecond } = resolveSimulatorPlan(options)
  const model = options.servedModelName ?? plan.model.id
  const version = options.engineVersion ?? DEFAULT_ENGINE_VERSION
  const maxNumSeqs = options.maxNumSeqs ?? DEFAULT_MAX_NUM_SEQS
  const kvBlocks = plan.kvTokenBudget / plan.blockSizeTokens
  const wall0 = performance.now()
  const clock = {
    nowS: () => ((performance.now() - wall0) / 1000) * speed,
    wallMsUntil: (simS: number) => ((simS - clock.nowS()) / speed) * 1000,
  }
  let life: Life | undefined
  let closed = false
  let seq = 0
  let port = options.port
  let restartTimer: NodeJS.Timeout | undefined

  const gpu = createSimGpu(
    gpuProfile,
    plan.gpuMemoryUtilization,
    () => {
      const s = life?.scheduler.stats()
      return {
        up: life !== undefined,
        batch: s?.busy ? s.lastBatch : 0,
        kvUsage: s ? s.usedBlocks / kvBlocks : 0,
      }
    },
    4000 + (process.pid % 1000),
  )

  function newScheduler() {
    return createScheduler(
      {
        kvBlocks,
        blockSize: plan.blockSizeTokens,
        maxNumSeqs,
        maxNumBatchedTokens: MAX_NUM_BATCHED_TOKENS,
        weightBytes: plan.weightBytes,
        kvBytesPerToken: plan.kvBytesPerToken,
        bandwidthBytesPerSecond: plan.gpu.bandwidthBytesPerSecond,
        activeParams: plan.model.activeParams,
        flopsPerSecond,
      },
      clock,
    )
  }

  const sendJson = (res: ServerResponse, status: number, body: unknown) =>
    void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))

  async function handle(l: Life, req: IncomingMessage, res: ServerResponse, body: Buffer) {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const loading = performance.now() < l.readyAtMs
    if (req.method === 'GET' || req.method === 'HEAD') {
      switch (path) {
        case '/health':
          return void res.writeHead(loading ? 503 : 200).end()
        case '/version':
          return sendJson(res, 200, { version })
        case '/v1/models':
          return sendJson(res, 200, {
            object: 'list',
            data: [
              {
                id: model,
                object: 'model',
                created: Math.floor(Date.now() / 1000),
                owned_by: 'vllm',
                root: plan.model.hfId,
                parent: null,
                max_model_len: maxModelLen,
              },
            ],
          })
        case '/metrics': {
          const text = await l.metrics.registry.metrics()
          return void res
            .writeHead(200, { 'content-type': l.metrics.registry.contentType })
            .end(text)
        }
      }
    }
    if (path !== '/v1/chat/completions' && path !== '/v1/completions')
      return sendJson(res, 404, { detail: 'Not Found' })
    if (req.method !== 'POST') return sendJson(res, 405, { detail: 'Method Not Allowed' })
    if (loading)
      return sendJson(res, 503, errorBody(503, 'ServiceUnavailableError', 'the engine is loading'))
    const parsed = parseScriptedRequest(path, body)
    if (!parsed)
      return sendJson(res, 400, errorBody(400, 'BadRequestError', 'invalid request body'))
    if (parsed.model !== undefined && parsed.model !== model)
      return sendJson(
        res,
        404,
        errorBody(404, 'NotFoundError', `The model \`${parsed.model}\` does not exist.`),
      )
    if (parsed.maxTokens === 0)
      return sendJson(res, 400, errorBody(400, 'BadRequestError', 'max_tokens must be at least 1'))
    const promptTokens =
      parsed.promptIdCount ?? Math.max(1, Math.ceil(Buffer.byteLength(parsed.promptText) / 4))
    const tooLong = contextLengthError(maxModelLen, promptTokens, parsed.maxTokens)
    if (tooLong) return sendJson(res, 400, errorBody(400, 'BadRequestError', tooLong))
    serve(l, res, parsed, promptTokens)
  }

  function serve(l: Life, res: ServerResponse, parsed: ScriptedRequest, promptTokens: number) {
    const targetTokens =
      parsed.maxTokens ?? Math.min(DEFAULT_OUTPUT_TOKENS, maxModelLen - promptTokens)
    const finishReason = parsed.maxTokens === undefined ? 'stop' : 'length'
    const x: ScriptedExchange = {
      req: parsed,
      id: `${parsed.format === 'openai-chat' ? 'chatcmpl' : 'cmpl'}-sim-${++seq}`,
      model,
      created: Math.floor(Date.now() / 1000),
      promptTokens,
      outputTokens: targetTokens,
    }
    let text = ''
    if (parsed.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.flushHeaders()
    }
    const state: SimRequestState = l.scheduler.submit({
      promptTokens,
      targetTokens,
      finishReason,
      arrivalS: clock.nowS(),
      onToken(i) {
        const t = scriptedTokenText(i)
        text += t
        if (!parsed.stream || res.destroyed) return
        const last = i === targetTokens - 1
        res.write(
          (i === 0 ? renderStreamHead(x) : '') + renderToken(x, t, last ? finishReason : null),
        )
      },
      onFinish(s) {
        l.metrics.recordFinished(s, finishReason)
        if (res.destroyed) return
        if (parsed.stream) res.end(renderStreamTail(x))
        else
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(renderWholeResponse(x, text, finishReason))
      },
    })
    res.once('close', () => {
      if (state.finishS === undefined) l.scheduler.abort(state)
    })
  }

  async function startLife(loadingS: number): Promise<Life> {
    const sockets = new Set<Socket>()
    const scheduler = newScheduler()
    const l: Life = {
      server: createServer(),
      sockets,
      scheduler,
      metrics: createEngineMetrics({
        model,
        engineVersion: version,
        maxModelLen,
        blockSize: plan.blockSizeTokens,
        numGpuBlocks: kvBlocks,
        gpuMemoryUtilization: plan.gpuMemoryUtilization,
        stats: () => scheduler.stats(),
      }),
      readyAtMs: performance.now() + (loadingS / speed) * 1000,
    }
    l.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('error', () => {})
      req.on('end', () => {
        handle(l, req, res, Buffer.concat(chunks)).catch(() => res.destroy())
      })
    })
    l.server.on('connection', (s: Socket) => {
      sockets.add(s)
      s.once('close', () => sockets.delete(s))
    })
    const listening = await listenHttp(l.server, {
      host: options.host,
      port,
      what: 'engine simulator',
      code: 'SIM_LISTEN_FAILED',
      flag: '--listen',
    })
    port = listening.port
    url = listening.url
    return l
  }

  async function stopLife(l: Life) {
    l.scheduler.close()
    for (const s of l.sockets) s.destroy()
    await closeHttpServer(l.server)
  }

  let url = ''
  life = await startLife(0)

  const restart = (attempt: number) => {
    restartTimer = undefined
    if (closed) return
    startLife(LOADING_SECONDS).then(
      (l) => {
        if (closed) void stopLife(l)
        else life = l
      },
      // The port may be briefly taken: try again (it is ours to reclaim).
      () => {
        if (attempt < 50) restartTimer = setTimeout(() => restart(attempt + 1), 100)
      },
    )
  }

  return {
    get url() {
      return url
    },
    engine: 'vllm',
    model,
    maxModelLen,
    kvTokenBudget: plan.kvTokenBudget,
    gpu: { nvidiaSmi: (args) => gpu.nvidiaSmi(args) },
    faults: {
      setForeignGpuMemoryBytes: (bytes) => gpu.setForeignBytes(bytes),
      crash(downMs) {
        const l = life
        if (!l || closed) return
        life = undefined
        void stopLife(l).then(() => {
          if (!closed) restartTimer = setTimeout(() => restart(0), Math.max(0, downMs / speed))
        })
      },
    },
    state() {
      const s = life?.scheduler.stats()
      return {
        running: s?.running ?? 0,
        waiting: s?.waiting ?? 0,
        kvCacheUsage: s ? s.usedBlocks / kvBlocks : 0,
        preemptionsTotal: s?.preemptions ?? 0,
        up: life !== undefined && performance.now() >= life.readyAtMs,
      }
    },
    async close() {
      closed = true
      if (restartTimer) clearTimeout(restartTimer)
      const l = life
      life = undefined
      if (l) await stopLife(l)
    },
  }
}

/** An ExecFileFn (src/gpu) that answers every nvidia-smi run from the simulated card. */
export function simulatedNvidiaSmi(sim: Simulator): ExecFileFn {
  return async (_file, args) => ({ stdout: sim.gpu.nvidiaSmi(args), stderr: '' })
}
