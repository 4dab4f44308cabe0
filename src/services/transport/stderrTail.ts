/**
 * A child's stderr: appended to its log file (created 0600: it may hold prompts and paths; rotated by
 * size) and its
 * end kept in memory, so that a child that dies can be reported with the last thing it said.
 */

import type { Readable } from "node:stream"
import { RotatingAppender, type RotationPolicy } from "../../system/logRotation.ts"

const TAIL_CHARS = 4_096

export interface StderrTail {
  /** The last non-empty line the child wrote on stderr, or "" when it wrote none. */
  readonly lastLine: () => string
}

/** Where a child's stderr goes: appended to `path`, rotated by size. */
export interface StderrLog {
  readonly path: string
  readonly rotation: RotationPolicy
}

export const captureStderr = (stream: Readable, logTo: StderrLog | undefined): StderrTail => {
  const log = logTo === undefined ? null : new RotatingAppender(logTo.path, logTo.rotation)
  let tail = ""
  stream.on("data", (chunk: Buffer) => {
    log?.append(chunk)
    tail = (tail + chunk.toString("utf8")).slice(-TAIL_CHARS)
  })
  stream.on("error", () => undefined)
  return {
    lastLine: () =>
      tail
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "")
        .at(-1) ?? "",
  }
}
