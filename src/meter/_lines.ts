// Byte-level line and Server-Sent-Events parsing. Lines end in CRLF, LF or CR (HTML Living
// Standard, "Server-sent events" §9.2.6 "Interpreting an event stream"); a chunk may end anywhere,
// even inside a UTF-8 sequence or between CR and LF, so nothing is decoded before a line is whole.
// Memory is bounded: a line (or event) longer than `maxBytes` is dropped, not buffered.

const LF = 0x0a
const CR = 0x0d

export class LineSplitter {
  private parts: Buffer[] = []
  private size = 0
  private overflow = false
  private skipLF = false

  constructor(
    private readonly maxBytes: number,
    /** `undefined`: the line was longer than maxBytes and dropped. */
    private readonly onLine: (line: Buffer | undefined) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0
    if (chunk.length === 0) return
    if (this.skipLF) {
      this.skipLF = false
      if (chunk[0] === LF) start = 1
    }
    let nextCR = chunk.indexOf(CR, start)
    while (start < chunk.length) {
      if (nextCR !== -1 && nextCR < start) nextCR = chunk.indexOf(CR, start)
      const nextLF = chunk.indexOf(LF, start)
      const eol = nextLF === -1 ? nextCR : nextCR === -1 ? nextLF : Math.min(nextLF, nextCR)
      if (eol === -1) {
        this.append(chunk.subarray(start))
        return
      }
      this.append(chunk.subarray(start, eol))
      this.emit()
      start = eol + 1
      if (chunk[eol] === CR) {
        if (start < chunk.length) {
          if (chunk[start] === LF) start++
        } else this.skipLF = true
      }
    }
  }

  /** Emits an unterminated last line (NDJSON); SSE callers ignore it (the spec discards it). */
  end(): void {
    if (this.size > 0 || this.parts.length > 0 || this.overflow) this.emit()
  }

  private append(b: Buffer): void {
    if (b.length === 0 || this.overflow) return
    this.size += b.length
    if (this.size > this.maxBytes) {
      this.overflow = true
      this.parts = []
      return
    }
    this.parts.push(b)
  }

  private emit(): void {
    const line = this.overflow
      ? undefined
      : this.parts.length === 1
        ? (this.parts[0] as Buffer)
        : Buffer.concat(this.parts, this.size)
    this.parts = []
    this.size = 0
    this.overflow = false
    this.onLine(line)
  }
}

const D = 0x64
const A = 0x61
const T = 0x74
const BOM = Buffer.from([0xef, 0xbb, 0xbf])

/** Parses an event stream; calls `onEvent` with each event's data (data lines joined by LF). */
export class SseParser {
  private data: Buffer[] = []
  private dataBytes = 0
  private hasData = false
  private overflow = false
  private first = true
  private readonly lines: LineSplitter

  constructor(
    private readonly maxEventBytes: number,
    private readonly onEvent: (data: Buffer | undefined) => void,
  ) {
    this.lines = new LineSplitter(maxEventBytes, (line) => this.line(line))
  }

  push(chunk: Buffer): void {
    if (this.first && chunk.length > 0) {
      // A leading U+FEFF is stripped (spec); it could arrive split across chunks only in a
      // pathological stream, which then fails to parse its first line, nothing worse.
      this.first = false
      if (chunk.subarray(0, 3).equals(BOM)) chunk = chunk.subarray(3)
    }
    this.lines.push(chunk)
  }

  private line(line: Buffer | undefined): void {
    if (line === undefined) {
      // Too long to keep: most likely a data line; the event is reported as dropped (undefined).
      this.overflow = true
      this.hasData = true
      return
    }
    if (line.length === 0) {
      if (this.hasData)
        this.onEvent(
          this.overflow
            ? undefined
            : this.data.length === 1 // the usual single data line: no copy
              ? (this.data[0] as Buffer)
              : Buffer.concat(this.data, this.dataBytes),
        )
      this.data = []
      this.dataBytes = 0
      this.hasData = false
      this.overflow = false
      return
    }
    if (line[0] === 0x3a) return // ':' comment (llama.cpp pings)
    // "data" compared in place (a subarray per line costs an allocation); event:, id:, retry: and
    // unknown fields are skipped.
    if (line.length < 4 || line[0] !== D || line[1] !== A || line[2] !== T || line[3] !== A) return
    let value: Buffer
    if (line.length === 4) value = line.subarray(4)
    else if (line[4] === 0x3a) value = line.subarray(line[5] === 0x20 ? 6 : 5)
    else return // a field like "dataX"
    if (this.hasData) this.addData(Buffer.from([LF]))
    this.hasData = true
    this.addData(value)
  }

  private addData(b: Buffer): void {
    if (this.overflow) return
    this.dataBytes += b.length
    if (this.dataBytes > this.maxEventBytes) {
      this.overflow = true
      this.data = []
      return
    }
    if (b.length > 0) this.data.push(b)
  }
}
