// One metered exchange: reads the request body (bounded; large ones parsed in the token worker),
// follows the response as it streams (SSE or NDJSON, byte-split anywhere) and, at the end, records
// the contract metrics. Hooks never throw into the proxy and never wait: token counts resolve later
// and the final recording waits for them (bounded by the counter's timeout).
import {
  analyzePromptBytes,
  type Dialect,
  type GenerateHint,
  promptCountText,
  type TokenCounter,
} from '../tokens/index.js'
import { type ClientMetrics, recordClient } from './_attribution.js'
import type { ResponseShape } from './_events.js'
import type { ContextClasses, MeterMetrics } from './_metrics.js'
import { type BaseLabels, recordDuration, recordSuccess } from './_record.js'
import { ResponseReader } from './_response.js'
import type {
  ContextClass,
  ErrorType,
  ExchangeObserver,
  ExchangeOutcome,
  ExchangeStart,
  Operation,
  Provider,
} from './types.js'

export interface ExchangeContext {
  metrics: MeterMetrics
  classes: ContextClasses
  counter: TokenCounter
  /** The label for a requested model name (bounded; see meter.ts). */
  modelLabel(raw: string | undefined): string
  servedProvider(): Provider | undefined
  generateHint(): GenerateHint
  clients: ClientMetrics
  /** The bounded `client` label (src/meter/_attribution.ts), worked out when recording. */
  clientOf(headers: ExchangeStart['headers'], user: string | undefined): string
  /** Keeps a pending recording for settled(). */
  track(p: Promise<void>): void
  onError(err: unknown): void
  inlineParseMaxBytes: number
  maxBufferedBytes: number
}

interface Analysis {
  dialect: Dialect
  model: string | undefined
  stream: boolean
  promptText: string | undefined
  morePromptTexts: readonly string[] | undefined
  promptChars: number | undefined
  promptTokens: number | undefined
  short: boolean
  /** The body's OpenAI `user` field. */
  user: string | undefined
}

export function classify(tokens: number, classes: ContextClasses): ContextClass {
  return tokens >= classes.longFromTokens
    ? 'long'
    : tokens >= classes.mediumFromTokens
      ? 'medium'
      : 'short'
}

const OPERATION: Record<Dialect, Operation> = {
  'openai-chat': 'chat',
  'openai-completions': 'text_completion',
  // OTel's gen_ai.operation.name for embeddings
  // (https://opentelemetry.io/docs/specs/semconv/registry/attributes/gen-ai/).
  'openai-embeddings': 'embeddings',
  'vllm-generate': 'generate',
  'tgi-generate': 'generate',
  'sglang-generate': 'generate',
  'llamacpp-completion': 'generate',
  'llamacpp-infill': 'generate',
}

const NATIVE_PROVIDER: Partial<Record<Dialect, Provider>> = {
  'vllm-generate': 'vllm',
  'tgi-generate': 'tgi',
  'sglang-generate': 'sglang',
  'llamacpp-completion': 'llamacpp',
  'llamacpp-infill': 'llamacpp',
}

const SHAPE_DIALECT: Partial<Record<ResponseShape, Dialect>> = {
  tgi: 'tgi-generate',
  sglang: 'sglang-generate',
  'vllm-demo': 'vllm-generate',
}

export function startExchange(
  ctx: ExchangeContext,
  start: ExchangeStart,
  path: string,
  routeDialect: Dialect,
): ExchangeObserver {
  const { metrics, classes, counter } = ctx
  let reqParts: Buffer[] = []
  let reqBytes = 0
  let reqOverflow = false
  let analysis: Analysis | undefined
  let analysisDone: Promise<void> | undefined
  /** A token count or worker parse is outstanding: the final recording waits for it. */
  let analysisPending = false
  let labels = { gen_ai_request_model: 'unknown', context_class: 'unknown' as ContextClass }
  let ended = false
  metrics.inFlight.inc(labels.gen_ai_request_model, labels.context_class)

  // Embeddings: input tokens only; no output, no TTFT or TPOT.
  const embeddings = routeDialect === 'openai-embeddings'
  const response = new ResponseReader(ctx.maxBufferedBytes, embeddings)

  const relabel = (model: string, cls: ContextClass) => {
    if (ended || (model === labels.gen_ai_request_model && cls === labels.context_class)) return
    metrics.inFlight.dec(labels.gen_ai_request_model, labels.context_class)
    labels = { gen_ai_request_model: model, context_class: cls }
    metrics.inFlight.inc(model, cls)
  }

  const classNow = (a: Analysis): ContextClass =>
    a.promptTokens !== undefined ? classify(a.promptTokens, classes) : a.short ? 'short' : 'unknown'

  const analyzeInline = (bytes: Uint8Array) => {
    const p = analyzePromptBytes(path, bytes, ctx.generateHint())
    if (!p) return
    const counted = promptCountText(p)
    const a: Analysis = {
      dialect: p.dialect,
      model: p.model,
      stream: p.stream,
      promptText: p.promptText,
      morePromptTexts: p.morePromptTexts,
      promptChars: p.promptText?.length,
      promptTokens: p.promptIdCount,
      // A byte-level BPE token is at least one byte: under the threshold in bytes is short.
      short:
        counted !== undefined && Buffer.byteLength(counted.text, 'utf8') < classes.mediumFromTokens,
      user: p.user,
    }
    analysis = a
    relabel(ctx.modelLabel(a.model), classNow(a))
    if (counted !== undefined && !a.short) {
      analysisPending = true
      analysisDone = countPrompt(a).then((n) => {
        analysisPending = false
        a.promptTokens = n
        if (n !== undefined) relabel(ctx.modelLabel(a.model), classify(n, classes))
      })
    }
  }

  const analyzeInWorker = (bytes: Uint8Array) => {
    analysisPending = true
    analysisDone = counter
      .analyzeBody(path, bytes, ctx.generateHint(), classes.mediumFromTokens)
      .then((w) => {
        analysisPending = false
        if (!w) return
        const a: Analysis = {
          dialect: w.dialect,
          model: w.model,
          stream: w.stream,
          promptText: undefined,
          morePromptTexts: undefined,
          promptChars: w.promptChars,
          promptTokens: w.promptTokens,
          short: w.short,
          user: w.user,
        }
        analysis = a
        relabel(ctx.modelLabel(w.model), classNow(a))
      })
  }

  return {
    requestChunk(chunk) {
      if (reqOverflow) return
      reqBytes += chunk.length
      if (reqBytes > ctx.maxBufferedBytes) {
        reqOverflow = true
        reqParts = []
        return
      }
      reqParts.push(chunk)
    },
    requestEnd() {
      if (reqOverflow || analysis) return
      if (reqBytes <= ctx.inlineParseMaxBytes) {
        // Parsed here and now: the proxy's own chunk, no copy.
        const body = reqParts.length === 1 ? (reqParts[0] as Buffer) : Buffer.concat(reqParts)
        reqParts = []
        analyzeInline(body)
        return
      }
      // One copy into a fresh, unpooled buffer, transferred to the worker (no main-thread parse).
      const bytes = Buffer.allocUnsafeSlow(reqBytes)
      let at = 0
      for (const p of reqParts) {
        bytes.set(p, at)
        at += p.length
      }
      reqParts = []
      analyzeInWorker(bytes)
    },
    responseHead(status, headers) {
      response.head(status, headers)
    },
    responseChunk(chunk, atMs) {
      response.chunk(chunk, atMs)
    },
    end(outcome) {
      if (ended) return
      try {
        metrics.inFlight.dec(labels.gen_ai_request_model, labels.context_class)
        ended = true
        finishSync(outcome)
      } catch (err) {
        ended = true
        ctx.onError(err)
      }
    },
  }

  function finishSync(outcome: ExchangeOutcome): void {
    response.finish(outcome.atMs)
    const { status, mode, firstContentAtMs } = response
    const errorType: ErrorType =
      outcome.errorType !== ''
        ? outcome.errorType
        : status >= 400
          ? (String(status) as ErrorType)
          : ''
    const durationS = Math.max(0, outcome.atMs - start.startedAtMs) / 1000
    // NDJSON (vLLM's demo stream) has no content type of its own: a body that is neither SSE nor
    // JSON counts as streamed unless the request asked for no stream.
    const streamed = mode === 'sse' || (mode === 'lines' && analysis?.stream !== false)
    const ttftS =
      errorType === '' && streamed && !embeddings && firstContentAtMs !== undefined
        ? Math.max(0, firstContentAtMs - start.startedAtMs) / 1000
        : undefined
    // Usually everything is known by now (engine usage, short prompt): record at once, without a
    // promise per exchange; otherwise wait for the token counts.
    if (!analysisPending) {
      const a = analysis
      const promptTokens = response.engPrompt ?? a?.promptTokens
      if (
        errorType !== '' ||
        ((promptTokens !== undefined || a?.promptText === undefined) &&
          (response.engOutput !== undefined || embeddings))
      ) {
        const base = labelsNow()
        const outputTokens = embeddings ? undefined : response.engOutput
        recordDuration(metrics, base, errorType, durationS)
        if (errorType === '')
          recordSuccess(metrics, base, durationS, ttftS, promptTokens, outputTokens)
        recordClientOf(base, errorType, promptTokens, outputTokens)
        return
      }
    }
    ctx.track(
      finishAsync(errorType, durationS, ttftS, streamed).catch((err: unknown) => ctx.onError(err)),
    )
  }

  async function finishAsync(
    errorType: ErrorType,
    durationS: number,
    ttftS: number | undefined,
    streamed: boolean,
  ) {
    if (analysisDone) await analysisDone
    const a = analysis
    const base = labelsNow()
    recordDuration(metrics, base, errorType, durationS)
    if (errorType !== '') {
      recordClientOf(base, errorType, undefined, undefined)
      return
    }
    // A short prompt the engine did not count is counted now, for the input-token histogram only.
    const knownPrompt = response.engPrompt ?? a?.promptTokens
    const promptTokens = knownPrompt ?? (a ? await countPrompt(a) : undefined)
    const outputTokens = embeddings
      ? undefined
      : (response.engOutput ?? (await countOutput(streamed, a)))
    recordSuccess(metrics, base, durationS, ttftS, promptTokens, outputTokens)
    recordClientOf(base, errorType, promptTokens, outputTokens)
  }

  /** Attribution happens here, once the exchange has ended: nothing of it runs while forwarding. */
  function recordClientOf(
    base: BaseLabels,
    errorType: ErrorType,
    promptTokens: number | undefined,
    outputTokens: number | undefined,
  ) {
    const client = ctx.clientOf(start.headers, analysis?.user)
    recordClient(ctx.clients, client, base.context_class, errorType, promptTokens, outputTokens)
  }

  /** The exchange's labels once its prompt is analysed; the class comes from the engine's or our
   * prompt count (a count made at the end for the input-token histogram does not reclassify). */
  function labelsNow(): BaseLabels {
    const a = analysis
    const dialect =
      a?.dialect ??
      (path === '/generate' ? SHAPE_DIALECT[response.shape] : undefined) ??
      routeDialect
    // OpenAI routes: the engine found behind the proxy; native routes name their engine.
    const provider: Provider = NATIVE_PROVIDER[dialect] ?? ctx.servedProvider() ?? 'openai'
    const knownPrompt = response.engPrompt ?? a?.promptTokens
    const cls: ContextClass =
      knownPrompt !== undefined ? classify(knownPrompt, classes) : a?.short ? 'short' : 'unknown'
    return {
      gen_ai_operation_name: OPERATION[dialect],
      gen_ai_request_model: ctx.modelLabel(a?.model),
      gen_ai_provider_name: provider,
      context_class: cls,
    }
  }

  /** The prompt's tokens by our tokenizer; undefined without a text or when the count fails. */
  async function countPrompt(a: Analysis): Promise<number | undefined> {
    const c = promptCountText(a)
    if (c === undefined) return undefined
    const n = await counter.countText(c.text)
    return n === undefined ? undefined : n - c.separators
  }

  /** Output tokens when the engine reported none: the generated text counted with the Qwen3
   * tokenizer; the number of content chunks when that is impossible (vLLM's demo stream sends one
   * line per engine step, i.e. per token, so lines are its count). */
  async function countOutput(
    streamed: boolean,
    a: Analysis | undefined,
  ): Promise<number | undefined> {
    let out: string | undefined
    if (response.shape === 'vllm-demo') {
      if (streamed) return response.contentEvents
      if (response.cumulative !== undefined && a?.promptChars !== undefined)
        out = response.cumulative.slice(a.promptChars)
    } else if (!response.textOverflow) {
      out = response.text.length > 0 ? response.text : response.cumulative
    }
    if (out !== undefined && out.length > 0) {
      const n = await counter.countText(out)
      if (n !== undefined) return n
    } else if (out !== undefined) return 0
    return response.contentEvents > 0 ? response.contentEvents : undefined
  }
}
