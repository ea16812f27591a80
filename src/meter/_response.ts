// Follows one response as it streams: SSE (OpenAI, TGI, SGLang, llama.cpp), NDJSON (vLLM's demo
// /generate) or a whole JSON body, and gathers what the meter needs — when generated content first
// arrived, the output text, and the engine's own token counts.
import type { IncomingHttpHeaders } from 'node:http'
import { type ResponseFacts, type ResponseShape, readResponseObject } from './_events.js'
import { LineSplitter, SseParser } from './_lines.js'

/** Events and lines up to this size are parsed as they pass; of larger ones (cumulative texts)
 * only the last is parsed, at the end — so a long SGLang or vLLM-demo stream costs O(n), not O(n²). */
const PARSE_AS_THEY_PASS_BYTES = 4096
const MAX_TEXT_CHARS = 4 * 1024 * 1024
const DONE = Buffer.from('[DONE]')

function parseJson(data: Buffer): unknown {
  try {
    return JSON.parse(data.toString('utf8'))
  } catch {
    return undefined
  }
}

function headerCount(h: IncomingHttpHeaders, name: string): number | undefined {
  const v = h[name]
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined
}

export class ResponseReader {
  status = 0
  mode: 'none' | 'sse' | 'lines' | 'whole' = 'none'
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

  constructor(private readonly maxBufferedBytes: number) {}

  head(status: number, headers: IncomingHttpHeaders): void {
    this.status = status
    if (status >= 400) return
    const ct = String(headers['content-type'] ?? '').toLowerCase()
    // TGI's /generate reports its counts in headers
    // (https://github.com/huggingface/text-generation-inference/blob/main/router/src/server.rs).
    this.engPrompt = headerCount(headers, 'x-prompt-tokens')
    this.engOutput = headerCount(headers, 'x-generated-tokens')
    const onData = (d: Buffer | undefined) => this.onData(d)
    if (ct.includes('text/event-stream')) {
      this.mode = 'sse'
      this.sse = new SseParser(this.maxBufferedBytes, onData)
    } else if (ct.includes('json') && !ct.includes('ndjson')) {
      this.mode = 'whole'
    } else {
      this.mode = 'lines'
      this.lines = new LineSplitter(this.maxBufferedBytes, onData)
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
    }
  }

  /** Reads what is left: an unterminated NDJSON line, a whole body, the last large event. */
  finish(atMs: number): void {
    this.chunkAtMs = atMs
    this.lines?.end()
    if (this.mode === 'whole' && this.wholeParts.length > 0) {
      this.apply(readResponseObject(parseJson(Buffer.concat(this.wholeParts))), atMs)
      this.wholeParts = []
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
