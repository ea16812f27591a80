// One metered exchange: reads the request body (bounded; large ones parsed in the token worker),
// follows the response as it streams (SSE or NDJSON, byte-split anywhere) and, at the end, records
// the contract metrics. Hooks never throw into the proxy and never wait: token counts resolve later
// and the final recording waits for them (bounded by the counter's timeout).

import { type HeaderSource, headerValue } from '../shared/index.js'
import {
  analyzePromptBytes,
  type Dialect,
  type GenerateHint,
  promptCountText,
  type TokenCounter,
} from '../tokens/index.js'
import { type ClientMetrics, recordClient } from './_attribution.js'
import type { ResponseShape } from './_events.js'
import type { ContextClasses, InFlightCell, MeterMetrics } from './_metrics.js'
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

/** The parts so far in a buffer of `size` bytes the worker may take: one it handed back when the
 * counter has one big enough (`bodyBuffer`), else a fresh unpooled one. */
function copyOf(parts: readonly Buffer[], size: number, counter: TokenCounter): Uint8Array {
  const bytes = counter.bodyBuffer?.(size) ?? Buffer.allocUnsafeSlow(size)
  let at = 0
  for (const p of parts) {
    bytes.set(p, at)
    at += p.length
  }
  return bytes
}

/** The longest a large body waits for the engine's answer before it is analysed anyway. */
export const WORKER_WAIT_MS = 250

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

/** One exchange's state; its methods run in the meter's after-I/O batch (_queued.ts). A class, not
 * closures: an exchange allocates one object and its response reader, not a dozen functions. */
export class Exchange implements ExchangeObserver {
  private reqParts: Buffer[] = []
  private reqBytes = 0
  private reqOverflow = false
  /** A large body waiting for the response head before it goes to the worker (toWorker). */
  private workerBytes: Uint8Array | undefined
  private workerTimer: NodeJS.Timeout | undefined
  private workerHandedOver: ((done: Promise<void> | undefined) => void) | undefined
  private headSeen = false
  /** startCopy ran (once: a chunked body is not asked for its length again on every chunk). */
  private copyTried = false
  /** The worker's copy of a large body with a declared length, filled as it arrives. */
  private reqCopy: Uint8Array | undefined
  private analysis: Analysis | undefined
  private analysisDone: Promise<void> | undefined
  /** A token count or worker parse is outstanding: the final recording waits for it. */
  private analysisPending = false
  private model = 'unknown'
  private cls: ContextClass = 'unknown'
  /** This exchange's count in inferwatch_requests_in_flight (model, class). */
  private cell: InFlightCell
  private ended = false
  /** Embeddings: input tokens only; no output, no TTFT or TPOT. */
  private readonly embeddings: boolean
  private readonly response: ResponseReader

  constructor(
    private readonly ctx: ExchangeContext,
    private readonly start: ExchangeStart,
    private readonly path: string,
    private readonly routeDialect: Dialect,
  ) {
    this.cell = ctx.metrics.inFlight.cell(this.model, this.cls)
    this.cell.n++
    this.embeddings = routeDialect === 'openai-embeddings'
    this.response = new ResponseReader(ctx.maxBufferedBytes, this.embeddings)
  }

  requestChunk(chunk: Buffer): void {
    if (this.reqOverflow) return
    const at = this.reqBytes
    this.reqBytes += chunk.length
    if (this.reqBytes > this.ctx.maxBufferedBytes) {
      this.reqOverflow = true
      this.reqParts = []
      this.reqCopy = undefined
      return
    }
    if (this.reqCopy) {
      this.copyIn(chunk, at)
      return
    }
    this.reqParts.push(chunk)
    if (this.reqBytes > this.ctx.inlineParseMaxBytes && !this.copyTried) this.startCopy()
  }

  /** A body bound for the worker with its length declared: copied into the buffer the worker gets
   * as each chunk arrives, in the gaps of the upload, not all at once after its last byte (when
   * the engine's first answer may be on its way). */
  private startCopy(): void {
    this.copyTried = true
    const declared = Number(headerValue(this.start.headers, 'content-length'))
    if (!Number.isInteger(declared) || declared < this.reqBytes) return
    if (declared > this.ctx.maxBufferedBytes) return
    this.reqCopy = copyOf(this.reqParts, declared, this.ctx.counter)
    this.reqParts = []
  }

  private copyIn(chunk: Buffer, at: number): void {
    const copy = this.reqCopy as Uint8Array
    if (this.reqBytes > copy.length) {
      // More than declared (never from Node's parser): the body is not analysed.
      this.reqOverflow = true
      this.reqCopy = undefined
      return
    }
    copy.set(chunk, at)
  }

  requestEnd(): void {
    if (this.reqOverflow || this.analysis) return
    const copy = this.reqCopy
    if (copy) {
      this.reqCopy = undefined
      if (this.reqBytes === copy.length) this.toWorker(copy)
      return
    }
    const parts = this.reqParts
    this.reqParts = []
    if (this.reqBytes <= this.ctx.inlineParseMaxBytes) {
      // Parsed here and now: the proxy's own chunk, no copy.
      this.analyzeInline(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts))
      return
    }
    // A chunked body (no declared length): one copy now, transferred to the worker (no
    // main-thread parse).
    this.toWorker(copyOf(parts, this.reqBytes, this.ctx.counter))
  }

  /** A large body goes to the worker once the engine has answered (its response head), at the
   * latest WORKER_WAIT_MS after the request ended: parsing and tokenizing a 1 MB prompt costs a
   * core for milliseconds, which then never competes with the engine's own tokenization and first
   * token on the same host. The class shows in the in-flight gauge that much later. */
  private toWorker(bytes: Uint8Array): void {
    if (this.headSeen) {
      this.analyzeInWorker(bytes)
      return
    }
    this.workerBytes = bytes
    this.analysisPending = true
    this.analysisDone = new Promise<void>((resolve) => {
      this.workerHandedOver = resolve
    })
    this.workerTimer = setTimeout(() => this.handOver(), WORKER_WAIT_MS)
    this.workerTimer.unref()
  }

  private handOver(): void {
    const bytes = this.workerBytes
    if (bytes === undefined) return
    this.workerBytes = undefined
    clearTimeout(this.workerTimer)
    this.analyzeInWorker(bytes)
    this.workerHandedOver?.(this.analysisDone)
  }

  responseHead(status: number, headers: HeaderSource): void {
    this.response.head(status, headers)
    this.headSeen = true
    this.handOver()
  }

  responseChunk(chunk: Buffer, atMs: number): void {
    this.response.chunk(chunk, atMs)
  }

  end(outcome: ExchangeOutcome): void {
    if (this.ended) return
    // Ended before any answer (an error, an abort): the body is analysed now, for the labels.
    this.handOver()
    try {
      this.cell.n--
      this.ended = true
      this.finishSync(outcome)
    } catch (err) {
      this.ended = true
      this.ctx.onError(err)
    }
  }

  private relabel(model: string, cls: ContextClass): void {
    if (this.ended || (model === this.model && cls === this.cls)) return
    this.cell.n--
    this.model = model
    this.cls = cls
    this.cell = this.ctx.metrics.inFlight.cell(model, cls)
    this.cell.n++
  }

  private classNow(a: Analysis): ContextClass {
    return a.promptTokens !== undefined
      ? classify(a.promptTokens, this.ctx.classes)
      : a.short
        ? 'short'
        : 'unknown'
  }

  private analyzeInline(bytes: Uint8Array): void {
    const { ctx } = this
    const p = analyzePromptBytes(this.path, bytes, ctx.generateHint())
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
        counted !== undefined &&
        Buffer.byteLength(counted.text, 'utf8') < ctx.classes.mediumFromTokens,
      user: p.user,
    }
    this.analysis = a
    this.relabel(ctx.modelLabel(a.model), this.classNow(a))
    if (counted !== undefined && !a.short) {
      this.analysisPending = true
      this.analysisDone = this.countPrompt(a).then((n) => {
        this.analysisPending = false
        a.promptTokens = n
        if (n !== undefined) this.relabel(ctx.modelLabel(a.model), classify(n, ctx.classes))
      })
    }
  }

  private analyzeInWorker(bytes: Uint8Array): void {
    const { ctx } = this
    this.analysisPending = true
    this.analysisDone = ctx.counter
      .analyzeBody(this.path, bytes, ctx.generateHint(), ctx.classes.mediumFromTokens)
      .then((w) => {
        this.analysisPending = false
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
        this.analysis = a
        this.relabel(ctx.modelLabel(w.model), this.classNow(a))
      })
  }

  private finishSync(outcome: ExchangeOutcome): void {
    const { response, embeddings, start, ctx } = this
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
    const streamed = mode === 'sse' || (mode === 'lines' && this.analysis?.stream !== false)
    const ttftS =
      errorType === '' && streamed && !embeddings && firstContentAtMs !== undefined
        ? Math.max(0, firstContentAtMs - start.startedAtMs) / 1000
        : undefined
    // Usually everything is known by now (engine usage, short prompt): record at once, without a
    // promise per exchange; otherwise wait for the token counts.
    if (!this.analysisPending) {
      const a = this.analysis
      const promptTokens = response.engPrompt ?? a?.promptTokens
      if (
        errorType !== '' ||
        ((promptTokens !== undefined || a?.promptText === undefined) &&
          (response.engOutput !== undefined || embeddings))
      ) {
        const base = this.labelsNow()
        const outputTokens = embeddings ? undefined : response.engOutput
        recordDuration(ctx.metrics, base, errorType, durationS)
        if (errorType === '')
          recordSuccess(ctx.metrics, base, durationS, ttftS, promptTokens, outputTokens)
        this.recordClientOf(base, errorType, promptTokens, outputTokens)
        return
      }
    }
    ctx.track(
      this.finishAsync(errorType, durationS, ttftS, streamed).catch((err: unknown) =>
        ctx.onError(err),
      ),
    )
  }

  private async finishAsync(
    errorType: ErrorType,
    durationS: number,
    ttftS: number | undefined,
    streamed: boolean,
  ): Promise<void> {
    const { response, ctx } = this
    if (this.analysisDone) await this.analysisDone
    const a = this.analysis
    const base = this.labelsNow()
    recordDuration(ctx.metrics, base, errorType, durationS)
    if (errorType !== '') {
      this.recordClientOf(base, errorType, undefined, undefined)
      return
    }
    // A short prompt the engine did not count is counted now, for the input-token histogram only.
    const knownPrompt = response.engPrompt ?? a?.promptTokens
    const promptTokens = knownPrompt ?? (a ? await this.countPrompt(a) : undefined)
    const outputTokens = this.embeddings
      ? undefined
      : (response.engOutput ?? (await this.countOutput(streamed, a)))
    recordSuccess(ctx.metrics, base, durationS, ttftS, promptTokens, outputTokens)
    this.recordClientOf(base, errorType, promptTokens, outputTokens)
  }

  /** Attribution happens here, once the exchange has ended: nothing of it runs while forwarding. */
  private recordClientOf(
    base: BaseLabels,
    errorType: ErrorType,
    promptTokens: number | undefined,
    outputTokens: number | undefined,
  ): void {
    const client = this.ctx.clientOf(this.start.headers, this.analysis?.user)
    recordClient(
      this.ctx.clients,
      client,
      base.context_class,
      errorType,
      promptTokens,
      outputTokens,
    )
  }

  /** The exchange's labels once its prompt is analysed; the class comes from the engine's or our
   * prompt count (a count made at the end for the input-token histogram does not reclassify). */
  private labelsNow(): BaseLabels {
    const { response, ctx } = this
    const a = this.analysis
    const dialect =
      a?.dialect ??
      (this.path === '/generate' ? SHAPE_DIALECT[response.shape] : undefined) ??
      this.routeDialect
    // OpenAI routes: the engine found behind the proxy; native routes name their engine.
    const provider: Provider = NATIVE_PROVIDER[dialect] ?? ctx.servedProvider() ?? 'openai'
    const knownPrompt = response.engPrompt ?? a?.promptTokens
    const cls: ContextClass =
      knownPrompt !== undefined
        ? classify(knownPrompt, ctx.classes)
        : a?.short
          ? 'short'
          : 'unknown'
    return {
      gen_ai_operation_name: OPERATION[dialect],
      gen_ai_request_model: ctx.modelLabel(a?.model),
      gen_ai_provider_name: provider,
      context_class: cls,
    }
  }

  /** The prompt's tokens by our tokenizer; undefined without a text or when the count fails. */
  private async countPrompt(a: Analysis): Promise<number | undefined> {
    const c = promptCountText(a)
    if (c === undefined) return undefined
    const n = await this.ctx.counter.countText(c.text)
    return n === undefined ? undefined : n - c.separators
  }

  /** Output tokens when the engine reported none: the generated text counted with the Qwen3
   * tokenizer; the number of content chunks when that is impossible (vLLM's demo stream sends one
   * line per engine step, i.e. per token, so lines are its count). */
  private async countOutput(
    streamed: boolean,
    a: Analysis | undefined,
  ): Promise<number | undefined> {
    const { response } = this
    let out: string | undefined
    if (response.shape === 'vllm-demo') {
      if (streamed) return response.contentEvents
      if (response.cumulative !== undefined && a?.promptChars !== undefined)
        out = response.cumulative.slice(a.promptChars)
    } else if (!response.textOverflow) {
      out = response.text.length > 0 ? response.text : response.cumulative
    }
    if (out !== undefined && out.length > 0) {
      const n = await this.ctx.counter.countText(out)
      if (n !== undefined) return n
    } else if (out !== undefined) return 0
    return response.contentEvents > 0 ? response.contentEvents : undefined
  }
}
