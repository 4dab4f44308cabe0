/**
 * A child's stderr: appended to its log file (created 0600: it may hold prompts and paths) and its
 * end kept in memory, so that a child that dies can be reported with the last thing it said.
 */
import { createWriteStream } from "node:fs"
import type { Readable } from "node:stream"

const TAIL_CHARS = 4_096

export interface StderrTail {
  /** The last non-empty line the child wrote on stderr, or "" when it wrote none. */
  readonly lastLine: () => string
}

export const captureStderr = (stream: Readable, logPath: string | undefined): StderrTail => {
  const log = logPath === undefined ? null : createWriteStream(logPath, { flags: "a", mode: 0o600 })
  log?.on("error", () => undefined)
  let tail = ""
  stream.on("data", (chunk: Buffer) => {
    log?.write(chunk)
    tail = (tail + chunk.toString("utf8")).slice(-TAIL_CHARS)
  })
  stream.on("error", () => undefined)
  stream.once("close", () => log?.end())
  return {
    lastLine: () =>
      tail
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "")
        .at(-1) ?? "",
  }
}
