// One LLM request through the simulated engine: count the prompt (exact from the cache, else an
// estimate settled later), refuse it with the engine's own error when it cannot fit, queue it in
// the core, and stream what the core produces in the engine's wire format (_formats.ts). Chat
// streams send the role-only chunk with the first token, as vLLM's V1 server does (it yields the
// role when the first output arrives); every output token is one Qwen3 token. Usage carries the
// exact prompt count, waiting for it when the estimate was used.
import type { ServerResponse } from 'node:http'
import type { CoreRequest, EngineCore } from './_core.js'
import type { EngineApi } from './_engine-api.js'
import type { EngineMetrics } from './_engine-metrics.js'
import {
  renderStreamHead,
  renderStreamTail,
  renderStreamToken,
  renderWhole,
  type ScriptedExchange,
  streamContentType,
} from './_formats.js'
import type { PromptCounter } from './_prompt-count.js'
import type { ScriptedRequest } from './_request.js'
import { scriptedTokenText } from './scripted-engine.js'

export interface ExchangeDeps {
  api: EngineApi
  counter: PromptCounter
  core: EngineCore
  metrics: EngineMetrics
  /** The engine's context per request (llama.cpp: a slot's n_ctx, reserved at admission). */
  maxModelLen: number
  reserveWholeContext: boolean
  inFlight: () => number
  /** Usage as the answer reported it. */
  reported(promptTokens: number, completionTokens: number): void
}

export interface ExchangeResult {
  status: number
  failure?: 'validation' | 'overloaded'
}

const JSON_HEADERS = { 'content-type': 'application/json' }

export async function answerLlm(
  res: ServerResponse,
  req: ScriptedRequest,
  d: ExchangeDeps,
  seq: number,
): Promise<ExchangeResult> {
  const counted =
    req.promptIdCount !== undefined
      ? {
          tokens: req.promptIdCount,
          exact: true,
          upperBound: req.promptIdCount,
          settled: Promise.resolve(req.promptIdCount),
        }
      : d.counter.count(req.promptText)
  let promptTokens = counted.tokens
  let exact = counted.exact
  // Only a prompt that might not fit waits for its exact count before admission.
  if (d.api.tooLong(req, exact ? promptTokens : counted.upperBound)) {
    promptTokens = await counted.settled
    exact = true
    const refusal = d.api.tooLong(req, promptTokens)
    if (refusal) {
      res.writeHead(refusal.status, { 'content-type': refusal.contentType }).end(refusal.body)
      return { status: refusal.status, ...(refusal.failure ? { failure: refusal.failure } : {}) }
    }
  }
  if (res.destroyed) return { status: 499 }
  if (d.api.maxConcurrent !== undefined && d.inFlight() > d.api.maxConcurrent) {
    const busy = d.api.overloaded()
    res.writeHead(busy.status, { 'content-type': busy.contentType }).end(busy.body)
    return { status: busy.status, ...(busy.failure ? { failure: busy.failure } : {}) }
  }
  const room = Math.max(1, d.maxModelLen - promptTokens)
  const [target, finishReason] =
    req.maxTokens !== undefined
      ? ([Math.max(1, Math.min(req.maxTokens, room)), 'length'] as const)
      : d.api.defaultOutput(req, promptTokens)
  const x: ScriptedExchange = {
    req,
    id: `${req.format === 'openai-chat' ? 'chatcmpl' : 'cmpl'}-${seq.toString(16).padStart(12, '0')}`,
    model: req.model ?? '',
    created: Math.floor(Date.now() / 1000),
    promptTokens,
    outputTokens: target,
    finishReason,
  }

  let ready: Promise<void> | undefined
  let coreRequest: CoreRequest | undefined
  if (!exact) {
    ready = counted.settled.then((n) => {
      x.promptTokens = n
      const r = coreRequest
      if (r && n !== r.promptTokens) {
        // Counters already bumped on the estimate are corrected by the difference.
        const before = r.promptTokens
        d.core.settlePrompt(r, n)
        d.metrics.promptSettled(r, before)
      }
    })
  }
  /** Runs `write` now, or after the exact count when it is still coming. */
  const whenReady = (write: () => void) => {
    if (ready) ready = ready.then(write)
    else write()
  }

  let sent = 0
  let text = ''
  let ended = false
  const done = new Promise<ExchangeResult>((resolve) => {
    const finish = () => {
      if (ended) return
      ended = true
      d.reported(x.promptTokens, x.outputTokens)
      resolve({ status: 200 })
    }
    const sink = {
      flush(r: CoreRequest) {
        if (res.destroyed) return
        const upTo = r.generated
        const finished = r.state === 'finished'
        if (finished) {
          x.outputTokens = r.generated
          x.cachedTokens = r.cachedTokens
          x.timingsMs = {
            prompt: ((r.firstTokenS ?? 0) - (r.scheduledS ?? 0)) * 1000,
            predicted: ((r.finishS ?? 0) - (r.firstTokenS ?? r.finishS ?? 0)) * 1000,
          }
        }
        whenReady(() => {
          if (res.destroyed) return
          if (req.stream) {
            let chunk = sent === 0 && upTo > 0 ? renderStreamHead(x) : ''
            for (; sent < upTo; sent++) {
              const t = scriptedTokenText(sent)
              text += t
              chunk += renderStreamToken(x, sent, t, text)
            }
            if (finished) {
              res.end(chunk + renderStreamTail(x))
              finish()
            } else if (chunk) res.write(chunk)
            return
          }
          if (!finished) return
          for (; sent < upTo; sent++) text += scriptedTokenText(sent)
          const whole = renderWhole(x, text)
          res.writeHead(200, { ...JSON_HEADERS, ...whole.headers }).end(whole.body)
          finish()
        })
      },
    }
    if (req.stream) {
      res.writeHead(200, {
        'content-type': streamContentType(req.format),
        'cache-control': 'no-cache',
      })
      res.flushHeaders()
    }
    coreRequest = d.core.submit({
      promptTokens,
      targetTokens: target,
      finishReason,
      prefixKey: req.promptIdCount === undefined ? req.promptText : undefined,
      ...(d.reserveWholeContext ? { reserveTokens: d.maxModelLen } : {}),
      sink,
    })
    res.once('close', () => {
      if (ended) return
      const r = coreRequest
      if (r && r.state !== 'finished') d.core.abort(r)
      ended = true
      resolve({ status: 499 })
    })
  })
  return done
}
