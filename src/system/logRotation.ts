/**
 * Size-based log rotation: `<name>` becomes `<name>.1`, `.1` becomes `.2`, and so on up to `keep`
 * (the oldest falls off), as logrotate does. Two kinds of writer: a sonic-boom destination (pino's
 * file writer: the event log and daemon.log), which reopens its file after the shift so no line is
 * lost, and `RotatingAppender` for low-volume appends (the child's stderr).
 */
import { appendFileSync, renameSync, rmSync, statSync } from "node:fs"
import type { DestinationStream } from "pino"
import { PRIVATE_FILE_MODE } from "./privateFiles.ts"

export interface RotationPolicy {
  readonly maxBytes: number
  readonly keep: number
}

const sizeOf = (path: string): number => {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

/** Shift `path` to `path.1` and the older files one further; with `keep` 0 the file is just removed. */
export const shiftLogFiles = (path: string, keep: number): void => {
  rmSync(`${path}.${keep}`, { force: true })
  for (let n = keep - 1; n >= 1; n--) {
    try {
      renameSync(`${path}.${n}`, `${path}.${n + 1}`)
    } catch {}
  }
  if (keep === 0) rmSync(path, { force: true })
  else {
    try {
      renameSync(path, `${path}.1`)
    } catch {}
  }
}

/** sonic-boom's surface that rotation needs (pino's `destination()` returns one). */
interface ReopenableDestination extends DestinationStream {
  on(event: "write", listener: (bytes: number) => void): unknown
  reopen(): void
}

/** Rotate `path`, written by `destination`, once it passes the size; the destination reopens it. */
export const rotateDestination = (
  destination: DestinationStream,
  path: string,
  policy: RotationPolicy,
): void => {
  const reopenable = destination as ReopenableDestination
  let bytes = sizeOf(path)
  reopenable.on("write", (written) => {
    bytes += written
    if (bytes < policy.maxBytes) return
    bytes = 0
    shiftLogFiles(path, policy.keep)
    reopenable.reopen()
  })
}

/** Appends chunks to `path` (0600), rotating it past the size. For low-volume logs: each append is a call. */
export class RotatingAppender {
  private bytes: number
  private readonly path: string
  private readonly policy: RotationPolicy

  constructor(path: string, policy: RotationPolicy) {
    this.path = path
    this.policy = policy
    this.bytes = sizeOf(path)
  }

  append(chunk: Buffer | string): void {
    if (this.bytes >= this.policy.maxBytes) {
      shiftLogFiles(this.path, this.policy.keep)
      this.bytes = 0
    }
    try {
      appendFileSync(this.path, chunk, { mode: PRIVATE_FILE_MODE })
      this.bytes += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length
    } catch {
      // A log that cannot be written must not take the child down with it.
    }
  }
}
