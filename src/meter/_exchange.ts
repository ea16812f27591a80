// One metered exchange: reads the request body (bounded; large ones parsed in the token worker),
// follows the response as it streams (SSE or NDJSON, byte-split anywhere) and, at the end, records
// the contract metrics. Hooks never throw into the proxy and never wait: token counts resolve later
// and the final recording waits for them (bounded by the counter's timeout).
import type { IncomingHttpHeaders } from 'node:http'
import {
  analyzePromptBytes,
  type Dialect,
  type GenerateHint,
  type TokenCounter,
} from '../tokens/index.js'
import { type ResponseFacts, type ResponseShape, readResponseObject } from './_events.js'
import { LineSplitter, SseParser } from './_lines.js'
import type { ContextClasses, MeterMetrics } from './_metrics.js'
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
  promptChars: number | undefined
  promptTokens: number | undefined
  short: boolean
}

/** Events and lines up to this size are parsed as they pass; of larger ones (cumulative texts)
 * only the last is parsed, at the end — so a long SGLang or vLLM-demo stream costs O(n), not O(n²). */
const PARSE_AS_THEY_PASS_BYTES = 4096
const MAX_TEXT_CHARS = 4 * 1024 * 1024
const DONE = Buffer.from('[DONE]')

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
  'vllm-generate': 'generate',
  'tgi-generate': 'generate',
  'sglang-generate': 'generate',
  'llamacpp-completion': 'generate',
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
  let analysisDone: Promise<void> = Promise.resolve()
  let labels = { gen_ai_request_model: 'unknown', context_class: 'unknown' as ContextClass }
  let ended = false
  metrics.inFlight.inc(labels)

  let status = 0
  let mode: 'none' | 'sse' | 'lines' | 'whole' = 'none'
  let sse: SseParser | undefined
  let lines: LineSplitter | undefined
  let wholeParts: Buffer[] = []
  let wholeBytes = 0
  let chunkAtMs = 0
  let firstContentAtMs: number | undefined
  let contentEvents = 0
  let shape: ResponseShape = 'unknown'
  let text = ''
  let textOverflow = false
  let cumulative: string | undefined
  let engPrompt: number | undefined
  let engOutput: number | undefined
  let lastBig: Buffer | undefined

  const relabel = (model: string, cls: ContextClass) => {
    if (ended || (model === labels.gen_ai_request_model && cls === labels.context_class)) return
    metrics.inFlight.dec(labels)
    labels = { gen_ai_request_model: model, context_class: cls }
    metrics.inFlight.inc(labels)
  }

  const classNow = (a: Analysis): ContextClass =>
    a.promptTokens !== undefined ? classify(a.promptTokens, classes) : a.short ? 'short' : 'unknown'

  const analyzeInline = (bytes: Uint8Array) => {
    const p = analyzePromptBytes(path, bytes, ctx.generateHint())
    if (!p) return
    const a: Analysis = {
      dialect: p.dialect,
      model: p.model,
      stream: p.stream,
      promptText: p.promptText,
      promptChars: p.promptText?.length,
      promptTokens: p.promptIdCount,
      // A byte-level BPE token is at least one byte: under the threshold in bytes is short.
      short:
        p.promptText !== undefined &&
        Buffer.byteLength(p.promptText, 'utf8') < classes.mediumFromTokens,
    }
    analysis = a
    relabel(ctx.modelLabel(a.model), classNow(a))
    if (a.promptText !== undefined && !a.short) {
      analysisDone = counter.countText(a.promptText).then((n) => {
        a.promptTokens = n
        if (n !== undefined) relabel(ctx.modelLabel(a.model), classify(n, classes))
      })
    }
  }

  const analyzeInWorker = (bytes: Uint8Array) => {
    analysisDone = counter
      .analyzeBody(path, bytes, ctx.generateHint(), classes.mediumFromTokens)
      .then((w) => {
        if (!w) return
        analysis = { ...w, promptText: undefined }
        relabel(ctx.modelLabel(w.model), classNow(analysis))
      })
  }

  const apply = (f: ResponseFacts, atMs: number) => {
    if (shape === 'unknown') shape = f.shape
    if (f.content) {
      contentEvents++
      firstContentAtMs ??= atMs
    }
    if (f.text && !textOverflow) {
      text += f.text
      if (text.length > MAX_TEXT_CHARS) {
        textOverflow = true
        text = ''
      }
    }
    if (f.cumulativeText !== undefined && f.cumulativeText.length >= (cumulative?.length ?? 0))
      cumulative = f.cumulativeText
    if (f.promptTokens !== undefined) engPrompt = Math.max(engPrompt ?? 0, f.promptTokens)
    if (f.outputTokens !== undefined) engOutput = Math.max(engOutput ?? 0, f.outputTokens)
  }

  const parse = (data: Buffer): unknown => {
    try {
      return JSON.parse(data.toString('utf8'))
    } catch {
      return undefined
    }
  }

  /** One SSE event's data or one NDJSON line. */
  const onData = (data: Buffer | undefined) => {
    if (data === undefined || data.length === 0 || data.equals(DONE)) return
    if (data.length <= PARSE_AS_THEY_PASS_BYTES || firstContentAtMs === undefined) {
      apply(readResponseObject(parse(data)), chunkAtMs)
    } else {
      contentEvents++ // large only because it carries (cumulative) text
      lastBig = data
    }
  }

  const headerCount = (h: IncomingHttpHeaders, name: string): number | undefined => {
    const v = h[name]
    return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined
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
      // One copy into a fresh, unpooled buffer (transferable to the worker, no main-thread parse
      // when large).
      const bytes = Buffer.allocUnsafeSlow(reqBytes)
      let at = 0
      for (const p of reqParts) {
        bytes.set(p, at)
        at += p.length
      }
      reqParts = []
      if (reqBytes <= ctx.inlineParseMaxBytes) analyzeInline(bytes)
      else analyzeInWorker(bytes)
    },
    responseHead(s, headers) {
      status = s
      if (s >= 400) return
      const ct = String(headers['content-type'] ?? '').toLowerCase()
      engPrompt = headerCount(headers, 'x-prompt-tokens')
      engOutput = headerCount(headers, 'x-generated-tokens')
      if (ct.includes('text/event-stream')) {
        mode = 'sse'
        sse = new SseParser(ctx.maxBufferedBytes, onData)
      } else if (ct.includes('json') && !ct.includes('ndjson')) {
        mode = 'whole'
      } else {
        mode = 'lines'
        lines = new LineSplitter(ctx.maxBufferedBytes, onData)
      }
    },
    responseChunk(chunk, atMs) {
      chunkAtMs = atMs
      if (mode === 'sse') sse?.push(chunk)
      else if (mode === 'lines') lines?.push(chunk)
      else if (mode === 'whole' && wholeBytes <= ctx.maxBufferedBytes) {
        wholeBytes += chunk.length
        if (wholeBytes > ctx.maxBufferedBytes) wholeParts = []
        else wholeParts.push(chunk)
      }
    },
    end(outcome) {
      if (ended) return
      try {
        metrics.inFlight.dec(labels)
        ended = true
        finishSync(outcome)
      } catch (err) {
        ended = true
        ctx.onError(err)
      }
    },
  }

  function finishSync(outcome: ExchangeOutcome): void {
    chunkAtMs = outcome.atMs
    lines?.end()
    if (mode === 'whole' && wholeParts.length > 0) {
      apply(readResponseObject(parse(Buffer.concat(wholeParts))), outcome.atMs)
      wholeParts = []
    }
    if (lastBig) {
      const f = readResponseObject(parse(lastBig))
      apply({ ...f, content: false }, outcome.atMs) // already counted as a content event
      lastBig = undefined
    }
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
      errorType === '' && streamed && firstContentAtMs !== undefined
        ? Math.max(0, firstContentAtMs - start.startedAtMs) / 1000
        : undefined
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
    await analysisDone
    const a = analysis
    const dialect =
      a?.dialect ?? (path === '/generate' ? SHAPE_DIALECT[shape] : undefined) ?? routeDialect
    const provider: Provider = dialect.startsWith('openai')
      ? (ctx.servedProvider() ?? 'openai')
      : ((
          { 'vllm-generate': 'vllm', 'tgi-generate': 'tgi', 'sglang-generate': 'sglang' } as Record<
            string,
            Provider
          >
        )[dialect] ?? 'llamacpp')
    const success = errorType === ''
    const knownPrompt = engPrompt ?? a?.promptTokens
    const cls: ContextClass =
      knownPrompt !== undefined ? classify(knownPrompt, classes) : a?.short ? 'short' : 'unknown'
    const base = {
      gen_ai_operation_name: OPERATION[dialect],
      gen_ai_request_model: ctx.modelLabel(a?.model),
      gen_ai_provider_name: provider,
      context_class: cls,
    }
    metrics.duration.observe({ ...base, error_type: errorType }, durationS)
    if (!success) return
    // A short prompt the engine did not count is counted now, for the input-token histogram only.
    const promptTokens =
      knownPrompt ??
      (a?.promptText !== undefined ? await counter.countText(a.promptText) : undefined)
    const outputTokens = engOutput ?? (await countOutput(streamed, a))
    if (ttftS !== undefined) {
      metrics.ttft.observe(base, ttftS)
      if (outputTokens !== undefined && outputTokens > 1)
        metrics.tpot.observe(base, Math.max(0, durationS - ttftS) / (outputTokens - 1))
    }
    if (promptTokens !== undefined)
      metrics.tokens.observe({ ...base, gen_ai_token_type: 'input' }, promptTokens)
    if (outputTokens !== undefined)
      metrics.tokens.observe({ ...base, gen_ai_token_type: 'output' }, outputTokens)
  }

  /** Output tokens when the engine reported none: the generated text counted with the Qwen3
   * tokenizer; the number of content chunks when that is impossible (vLLM's demo stream sends one
   * line per engine step, i.e. per token, so lines are its count). */
  async function countOutput(
    streamed: boolean,
    a: Analysis | undefined,
  ): Promise<number | undefined> {
    let out: string | undefined
    if (shape === 'vllm-demo') {
      if (streamed) return contentEvents
      if (cumulative !== undefined && a?.promptChars !== undefined)
        out = cumulative.slice(a.promptChars)
    } else if (!textOverflow) {
      out = text.length > 0 ? text : cumulative
    }
    if (out !== undefined && out.length > 0) {
      const n = await counter.countText(out)
      if (n !== undefined) return n
    } else if (out !== undefined) return 0
    return contentEvents > 0 ? contentEvents : undefined
  }
}
