/**
 * Transport: a line-oriented duplex to an app-server, one JSON message per line. Two live kinds:
 * the stdio of a child process (`stdioTransport`) and an external `ws://` endpoint (`wsTransport`).
 * Owns the byte stream and its end; does not own the process behind it (the Supervisor does) or
 * what the lines mean (the AppServerClient does).
 */
import * as Schema from "effect/Schema"

export class TransportClosedError extends Schema.TaggedError<TransportClosedError>()("TransportClosedError", {
  /** Which transport: `stdio (pid 123)`, `ws://127.0.0.1:9000`. */
  transport: Schema.String,
  reason: Schema.String,
  exitCode: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
}) {
  override get message(): string {
    const how =
      this.signal !== null
        ? ` (signal ${this.signal})`
        : this.exitCode !== null
          ? ` (exit code ${this.exitCode})`
          : ""
    return `${this.transport} closed: ${this.reason}${how}`
  }
}

export interface TransportHandlers {
  readonly onLine: (line: string) => void
  /** A line too large to buffer was skipped; the stream goes on. */
  readonly onOversizedLine: (bytes: number) => void
  /** Called once, when the peer can no longer be reached. */
  readonly onClose: (error: TransportClosedError) => void
}

export interface Transport {
  readonly describe: string
  /** Begin delivering lines. Called once; lines that arrived before are buffered until then. */
  readonly start: (handlers: TransportHandlers) => void
  /** Queue one message; returns false once the transport is closed. */
  readonly send: (line: string) => boolean
  /** Close our side (stdin end / socket close). The peer's exit is reported through `onClose`. */
  readonly close: () => void
}
