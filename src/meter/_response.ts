// Follows one response as it streams: SSE (OpenAI, TGI, SGLang, llama.cpp), NDJSON (vLLM's demo
// /generate) or a whole JSON body, and gathers what the meter needs — when generated content first
// arrived, the output text, and the engine's own token counts.
import { type HeaderSource, headerValue } from '../shared/index.js'
import { type ResponseFacts, type ResponseShape, readResponseObject } from './_events.js'
import { LineSplitter, SseParser } from './_lines.js'

/** Events and lines up to this size are parsed as they pass; of larger ones (cumulative texts)
 * only the last is parsed, at the end — so a long SGLang or vLLM-demo stream costs O(n), not O(n²). */
const PARSE_AS_THEY_PASS_BYTES = 4096
const MAX_TEXT_CHARS = 4 * 1024 * 1024
const DONE = Buffer.from('[DONE]')
/** Embeddings: `usage` ends the body in every engine's response (the OpenAI API reference's
 * order, https://platform.openai.com/docs/api-reference/embeddings/object, kept by vLLM, SGLang
 * and llama.cpp), so only the end is kept: a large batch of vectors is neither buffered nor parsed. */
const USAGE_TAIL_BYTES = 1024
const USAGE_KEY = Buffer.from('"usage"')
/** `: {…}` after the key, with at most one nested object (prompt_tokens_details). */
const USAGE_OBJECT = /^\s*:\s*(\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\})/

function parseJson(data: Buffer): unknown {
  return parseJsonText(data.toString('utf8'))
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** The `usage` object at the end of a JSON body, as a response object of its own. */
function usageAtEnd(tail: Buffer): unknown {
  const at = tail.lastIndexOf(USAGE_KEY)
  if (at === -1) return undefined
  // Usage is ASCII: latin1 decodes it as is, and a cut UTF-8 sequence before it cannot throw.
  const m = USAGE_OBJECT.exec(tail.toString('latin1', at + USAGE_KEY.length))
  return m?.[1] === undefined ? undefined : { usage: parseJsonText(m[1]) }
}

/** The last `n` bytes of a body kept in parts (a view when the last part holds them). Only the
 * last few parts are joined: when they hold fewer than `n` bytes the usage may be cut, and the
 * caller then parses the body whole. */
function lastBytes(parts: readonly Buffer[], n: number): Buffer {
  const last = parts[parts.length - 1] as Buffer
  if (last.length >= n || parts.length === 1) return last.subarray(Math.max(0, last.length - n))
  const joined = Buffer.concat(parts.slice(-Math.min(parts.length, 1 + Math.ceil(n / 64))))
  return joined.subarray(Math.max(0, joined.length - n))
}

function headerCount(h: HeaderSource, name: string): number | undefined {
  const v = headerValue(h, name)
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined
}

export class ResponseReader {
  status = 0
  mode: 'none' | 'sse' | 'lines' | 'whole' | 'usage-tail' = 'none'
  firstContentAtMs: number | undefined
  /** Events or lines that carried generated content. */
  contentEvents = 0
  shape: ResponseShape = 'unknown'
  /** Output text from deltas ('' once over the cap; see textOverflow). */
  text = ''
  textOverflow = false
  cumulative: string | undefined
  engPrompt: number | undefined
  engOutput: number | undefined
  private sse: SseParser | undefined
  private lines: LineSplitter | undefined
  private wholeParts: Buffer[] = []
  private wholeBytes = 0
  private chunkAtMs = 0
  private lastBig: Buffer | undefined
  private tail: Buffer | undefined

  constructor(
    private readonly maxBufferedBytes: number,
    /** Only the usage at the end of a JSON body is wanted (embeddings). */
    private readonly usageOnly = false,
  ) {}

  head(status: number, headers: HeaderSource): void {
    this.status = status
    if (status >= 400) return
    const ct = (headerValue(headers, 'content-type') ?? '').toLowerCase()
    // TGI's /generate reports its counts in headers
    // (https://github.com/huggingface/text-generation-inference/blob/main/router/src/server.rs).
    this.engPrompt = headerCount(headers, 'x-prompt-tokens')
    this.engOutput = headerCount(headers, 'x-generated-tokens')
    if (ct.includes('text/event-stream')) {
      this.mode = 'sse'
      this.sse = new SseParser(this.maxBufferedBytes, (d) => this.onData(d))
    } else if (ct.includes('json') && !ct.includes('ndjson')) {
      this.mode = this.usageOnly ? 'usage-tail' : 'whole'
    } else {
      this.mode = 'lines'
      this.lines = new LineSplitter(this.maxBufferedBytes, (d) => this.onData(d))
    }
  }

  chunk(chunk: Buffer, atMs: number): void {
    this.chunkAtMs = atMs
    if (this.mode === 'sse') this.sse?.push(chunk)
    else if (this.mode === 'lines') this.lines?.push(chunk)
    else if (this.mode === 'whole' && this.wholeBytes <= this.maxBufferedBytes) {
      this.wholeBytes += chunk.length
      if (this.wholeBytes > this.maxBufferedBytes) this.wholeParts = []
      else this.wholeParts.push(chunk)
    } else if (this.mode === 'usage-tail') this.keepTail(chunk)
  }

  private keepTail(chunk: Buffer): void {
    // Copies of at most 2 KiB: the kept end never pins a large socket buffer.
    const joined =
      this.tail && chunk.length < USAGE_TAIL_BYTES ? Buffer.concat([this.tail, chunk]) : chunk
    this.tail = Buffer.from(joined.subarray(Math.max(0, joined.length - USAGE_TAIL_BYTES)))
  }

  /** Reads what is left: an unterminated NDJSON line, a whole body, the last large event. */
  finish(atMs: number): void {
    this.chunkAtMs = atMs
    this.lines?.end()
    if (this.mode === 'whole' && this.wholeParts.length > 0) {
      // An OpenAI body names its usage after the choices (the API reference's order, kept by
      // vLLM, SGLang, TGI's and llama.cpp's OpenAI routes): when that gives both counts, the text
      // is never needed (it is counted only when the engine reports none), so the body is not
      // parsed. Anything else — no usage, a count missing, usage not an object — is parsed whole.
      const fromTail = readResponseObject(usageAtEnd(lastBytes(this.wholeParts, USAGE_TAIL_BYTES)))
      this.apply(
        fromTail.promptTokens !== undefined && fromTail.outputTokens !== undefined
          ? fromTail
          : readResponseObject(parseJson(Buffer.concat(this.wholeParts))),
        atMs,
      )
      this.wholeParts = []
    }
    if (this.tail) {
      this.apply(readResponseObject(usageAtEnd(this.tail)), atMs)
      this.tail = undefined
    }
    if (this.lastBig) {
      // Already counted as a content event when it passed.
      const f = readResponseObject(parseJson(this.lastBig))
      f.content = false
      this.apply(f, atMs)
      this.lastBig = undefined
    }
  }

  /** One SSE event's data or one NDJSON line. */
  private onData(data: Buffer | undefined): void {
    if (data === undefined || data.length === 0 || (data.length === 6 && data.equals(DONE))) return
    if (data.length <= PARSE_AS_THEY_PASS_BYTES || this.firstContentAtMs === undefined) {
      this.apply(readResponseObject(parseJson(data)), this.chunkAtMs)
    } else {
      this.contentEvents++ // large only because it carries (cumulative) text
      // A copy: `data` may be a view into a much larger socket buffer, kept until the end.
      this.lastBig = Buffer.from(data)
    }
  }

  private apply(f: ResponseFacts, atMs: number): void {
    if (this.shape === 'unknown') this.shape = f.shape
    if (f.content) {
      this.contentEvents++
      this.firstContentAtMs ??= atMs
    }
    if (f.text && !this.textOverflow) {
      this.text += f.text
      if (this.text.length > MAX_TEXT_CHARS) {
        this.textOverflow = true
        this.text = ''
      }
    }
    if (f.cumulativeText !== undefined && f.cumulativeText.length >= (this.cumulative?.length ?? 0))
      this.cumulative = f.cumulativeText
    if (f.promptTokens !== undefined) this.engPrompt = Math.max(this.engPrompt ?? 0, f.promptTokens)
    if (f.outputTokens !== undefined) this.engOutput = Math.max(this.engOutput ?? 0, f.outputTokens)
  }
}
