/** A Transport over a child's stdout (lines in) and stdin (lines out). */
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
  options.stdout.on("end", () => {
    streamEnded = true
    if (handlers !== null) splitter.end()
  })
  options.stdout.on("error", () => undefined)
  options.stdin.on("error", () => undefined)

  void options.exited.then(
    ({ exitCode, signal }) =>
      finish(
        new TransportClosedError({
          transport: options.describe,
          reason: "the app-server exited",
          exitCode,
          signal,
        }),
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
