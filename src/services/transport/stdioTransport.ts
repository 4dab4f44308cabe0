/**
 * A Transport over a child's stdout (lines in) and stdin (lines out). The close is reported once the
 * process has exited *and* its stdout has been read to the end, so a `turn/completed` the child wrote
 * just before exiting is delivered before the close. A stdout that some escaped grandchild keeps
 * open is given `stdoutGraceMs` after the exit, then abandoned.
 */
import type { Readable, Writable } from "node:stream"
import { LineSplitter } from "./lineSplitter.ts"
import { type Transport, TransportClosedError, type TransportHandlers } from "./Transport.ts"

export interface ChildExit {
  readonly exitCode: number | null
  readonly signal: string | null
}

export interface StdioTransportOptions {
  readonly describe: string
  readonly stdout: Readable
  readonly stdin: Writable
  /** Resolves when the process has exited. */
  readonly exited: Promise<ChildExit>
  /** Every raw line in and out, for the opt-in protocol log. */
  readonly onRawLine?: (direction: "in" | "out", line: string) => void
  readonly maxLineBytes?: number
  /** How long after the exit an unfinished stdout is still read (default 2 s). */
  readonly stdoutGraceMs?: number
}

export const stdioTransport = (options: StdioTransportOptions): Transport => {
  let handlers: TransportHandlers | null = null
  let closed = false
  const early: Array<Buffer> = []
  let streamEnded = false

  const splitter = new LineSplitter(
    {
      onLine: (line) => {
        options.onRawLine?.("in", line)
        handlers?.onLine(line)
      },
      onOversizedLine: (bytes) => handlers?.onOversizedLine(bytes),
    },
    options.maxLineBytes,
  )

  let closeBeforeStart: TransportClosedError | null = null

  const finish = (error: TransportClosedError): void => {
    if (closed) return
    closed = true
    if (handlers === null) closeBeforeStart = error
    else handlers.onClose(error)
  }

  options.stdout.on("data", (chunk: Buffer) => {
    if (handlers === null) early.push(chunk)
    else splitter.push(chunk)
  })
  // The stream ending is not yet the process exiting; the close is reported with the exit status.
  const stdoutDone = new Promise<void>((resolve) => {
    const done = () => {
      if (!streamEnded) {
        streamEnded = true
        if (handlers !== null) splitter.end()
      }
      resolve()
    }
    options.stdout.once("end", done)
    options.stdout.once("close", done)
    options.stdout.once("error", done)
  })
  options.stdout.on("error", () => undefined)
  options.stdin.on("error", () => undefined)

  /**
   * After the exit, read what is still in the pipe. The grace is for a pipe that stays open with
   * nothing in it (a grandchild holding it): it counts from the last chunk, so a backlog a slow
   * reader has yet to drain is read whole however long that takes.
   */
  const readToEnd = (): Promise<void> => {
    if (streamEnded) return Promise.resolve()
    let timer: NodeJS.Timeout | undefined
    const refresh = () => timer?.refresh()
    options.stdout.on("data", refresh)
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        options.stdout.destroy()
        resolve()
      }, options.stdoutGraceMs ?? 2_000)
    })
    return Promise.race([stdoutDone, grace]).finally(() => {
      clearTimeout(timer)
      options.stdout.off("data", refresh)
    })
  }

  void options.exited.then(
    ({ exitCode, signal }) =>
      readToEnd().then(() =>
        finish(
          new TransportClosedError({
            transport: options.describe,
            reason: "the app-server exited",
            exitCode,
            signal,
          }),
        ),
      ),
    (error: unknown) =>
      finish(
        new TransportClosedError({
          transport: options.describe,
          reason: String(error),
          exitCode: null,
          signal: null,
        }),
      ),
  )

  return {
    describe: options.describe,
    start: (h) => {
      handlers = h
      for (const chunk of early.splice(0)) splitter.push(chunk)
      if (streamEnded) splitter.end()
      if (closeBeforeStart !== null) h.onClose(closeBeforeStart)
    },
    send: (line) => {
      if (closed || options.stdin.destroyed || options.stdin.writableEnded) return false
      options.onRawLine?.("out", line)
      options.stdin.write(`${line}\n`)
      return true
    },
    close: () => {
      if (!options.stdin.writableEnded) options.stdin.end()
    },
  }
}
