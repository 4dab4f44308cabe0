/**
 * The failures of talking to an app-server, as one tagged family. Callers branch on `_tag`
 * (and on `RpcOverloadedError` to back off and retry), never on message text.
 */
import * as Schema from "effect/Schema"
import { TransportClosedError } from "../transport/Transport.ts"

export { TransportClosedError }

/** The server answered the request with a JSON-RPC error. */
export class RpcError extends Schema.TaggedError<RpcError>()("RpcError", {
  method: Schema.String,
  code: Schema.Int,
  message: Schema.String,
  data: Schema.optionalKey(Schema.Unknown),
}) {}

/** The server is overloaded (-32001): retry after a back-off. */
export class RpcOverloadedError extends Schema.TaggedError<RpcOverloadedError>()("RpcOverloadedError", {
  method: Schema.String,
  message: Schema.String,
  data: Schema.optionalKey(Schema.Unknown),
}) {}

export class RequestTimeoutError extends Schema.TaggedError<RequestTimeoutError>()("RequestTimeoutError", {
  method: Schema.String,
  timeoutMs: Schema.Int,
}) {
  override get message(): string {
    return `${this.method} got no answer within ${this.timeoutMs} ms`
  }
}

/** The server answered, but not with what the protocol says it answers. */
export class ResultDecodeError extends Schema.TaggedError<ResultDecodeError>()("ResultDecodeError", {
  method: Schema.String,
  message: Schema.String,
}) {}

export type AppServerError =
  | RpcError
  | RpcOverloadedError
  | RequestTimeoutError
  | ResultDecodeError
  | TransportClosedError

/** `thread/resume` of a thread codex does not know (it keeps a thread only once a turn of it completed). */
export class UnknownThreadError extends Schema.TaggedError<UnknownThreadError>()("UnknownThreadError", {
  threadId: Schema.String,
  message: Schema.String,
}) {}
