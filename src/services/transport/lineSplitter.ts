/**
 * Splits a byte stream into lines. Handles lines split across chunks, many lines in one chunk,
 * `\r\n`, lines far larger than a chunk (a `thread/resume` answer can exceed 16 MiB), and invalid
 * UTF-8 (decoded with U+FFFD, so the line still arrives and the JSON layer reports it).
 * A line over `maxLineBytes` is discarded as it streams in and reported once, without buffering it.
 */

export interface LineSink {
  readonly onLine: (line: string) => void
  readonly onOversizedLine: (bytes: number) => void
}

const NEWLINE = 0x0a
const CARRIAGE_RETURN = 0x0d

/**
 * The longest line kept. codex's largest messages (a long thread's `thread/read`) are a few MiB; a
 * line past this is garbage or a runaway, and buffering it would be memory the daemon never gets back
 * (V8 keeps a grown heap). It is discarded while it streams and reported once.
 */
export const MAX_LINE_BYTES = 32 * 1024 * 1024

export class LineSplitter {
  private chunks: Array<Buffer> = []
  private buffered = 0
  private discarding = false
  private discarded = 0
  private readonly decoder = new TextDecoder("utf-8", { fatal: false })
  private readonly sink: LineSink
  private readonly maxLineBytes: number

  constructor(sink: LineSink, maxLineBytes = MAX_LINE_BYTES) {
    this.sink = sink
    this.maxLineBytes = maxLineBytes
  }

  push(chunk: Buffer): void {
    let start = 0
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start)
      if (newline === -1) break
      if (this.buffered === 0 && !this.discarding) this.lineWithin(chunk, start, newline)
      else {
        this.take(chunk.subarray(start, newline))
        this.endLine()
      }
      start = newline + 1
    }
    if (start < chunk.length) this.take(chunk.subarray(start))
  }

  /**
   * The common case, a whole line inside one chunk, decoded straight from the chunk: no slice of it
   * and no decoder call (a burst of deltas is thousands of lines per chunk). Buffer's UTF-8 decoding
   * replaces invalid bytes with U+FFFD as the decoder does.
   */
  private lineWithin(chunk: Buffer, start: number, newline: number): void {
    if (newline - start > this.maxLineBytes) {
      this.sink.onOversizedLine(newline - start)
      return
    }
    const end = newline > start && chunk[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline
    if (end > start) this.sink.onLine(chunk.toString("utf8", start, end))
  }

  /** End of stream: a final line without a newline still counts. */
  end(): void {
    if (this.buffered > 0 || this.discarding) this.endLine()
  }

  private take(part: Buffer): void {
    if (part.length === 0) return
    if (this.discarding) {
      this.discarded += part.length
      return
    }
    if (this.buffered + part.length > this.maxLineBytes) {
      this.discarding = true
      this.discarded = this.buffered + part.length
      this.chunks = []
      this.buffered = 0
      return
    }
    this.chunks.push(part)
    this.buffered += part.length
  }

  private endLine(): void {
    if (this.discarding) {
      this.discarding = false
      this.sink.onOversizedLine(this.discarded)
      this.discarded = 0
      return
    }
    let bytes =
      this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered)
    this.chunks = []
    this.buffered = 0
    if (bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN)
      bytes = bytes.subarray(0, bytes.length - 1)
    if (bytes.length === 0) return
    this.sink.onLine(this.decoder.decode(bytes))
  }
}
