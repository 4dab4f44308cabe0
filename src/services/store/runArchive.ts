/**
 * The run archive: finished runs that left the registry, one JSON line each, append-only.
 * Owns the archive file and an in-memory index (run id → byte range) built once at open, so a lookup
 * by id reads one line instead of scanning the file.
 *
 * A torn last line (a crash mid-append) or an undecodable line is skipped and reported, and the file
 * is given a fresh line ending so the next append starts clean.
 */
import { open } from "node:fs/promises"
import * as Result from "effect/Result"
import { decodeJsonText } from "../../domain/decode.ts"
import type { RunId } from "../../domain/ids.ts"
import { RunRecord } from "../../domain/run.ts"
import { appendDurable, readBytesIfExists } from "./atomicFile.ts"

interface LineRange {
  readonly offset: number
  readonly length: number
}

export interface SkippedLine {
  readonly path: string
  readonly movedTo: null
  readonly reason: string
}

export class RunArchive {
  /** A run being appended is served from memory until its line is on disk. */
  private readonly index = new Map<string, LineRange | RunRecord>()
  private appending: Promise<void> = Promise.resolve()
  private readonly path: string
  readonly skippedLines: ReadonlyArray<SkippedLine>

  private constructor(path: string, skippedLines: ReadonlyArray<SkippedLine>) {
    this.path = path
    this.skippedLines = skippedLines
  }

  static async open(path: string, options: { readonly readOnly: boolean }): Promise<RunArchive> {
    const skipped: Array<SkippedLine> = []
    const bytes = await readBytesIfExists(path)
    const entries: Array<[string, LineRange]> = []
    if (bytes !== null && bytes.length > 0) {
      let start = 0
      let lineNumber = 0
      while (start < bytes.length) {
        let end = bytes.indexOf(0x0a, start)
        if (end === -1) end = bytes.length
        lineNumber += 1
        const line = bytes.toString("utf8", start, end)
        const decoded = decodeJsonText(RunRecord, `${path}:${lineNumber}`)(line)
        if (Result.isSuccess(decoded))
          entries.push([decoded.success.runId, { offset: start, length: end - start }])
        else if (line.trim() !== "") skipped.push({ path, movedTo: null, reason: decoded.failure.message })
        start = end + 1
      }
      if (!options.readOnly && bytes[bytes.length - 1] !== 0x0a) await appendDurable(path, "\n")
    }
    const archive = new RunArchive(path, skipped)
    for (const [id, range] of entries) archive.index.set(id, range)
    return archive
  }

  /** Settles once every append started so far has (a new one replaces it). Never rejects. */
  get appendsInFlight(): Promise<void> {
    return this.appending
  }

  /** Appends are chained so that offsets are assigned in file order. */
  append(runs: ReadonlyArray<RunRecord>): Promise<void> {
    for (const run of runs) this.index.set(run.runId, run)
    const lines = runs.map((run) => JSON.stringify(run))
    const next = this.appending.then(async () => {
      let offset = await appendDurable(this.path, `${lines.join("\n")}\n`)
      runs.forEach((run, i) => {
        const length = Buffer.byteLength(lines[i] ?? "", "utf8")
        if (this.index.get(run.runId) === run) this.index.set(run.runId, { offset, length })
        offset += length + 1
      })
    })
    this.appending = next.catch(() => undefined)
    return next
  }

  async find(runId: RunId): Promise<RunRecord | null> {
    const entry = this.index.get(runId)
    if (entry === undefined) return null
    if (!("offset" in entry)) return entry
    const handle = await open(this.path, "r")
    try {
      const buffer = Buffer.alloc(entry.length)
      await handle.read(buffer, 0, entry.length, entry.offset)
      const decoded = decodeJsonText(RunRecord, this.path)(buffer.toString("utf8"))
      if (Result.isFailure(decoded)) throw decoded.failure
      return decoded.success
    } finally {
      await handle.close()
    }
  }
}
