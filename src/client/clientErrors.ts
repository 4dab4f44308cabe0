/**
 * What a CodexdClient call can fail with, one tag per thing a program does differently: start a
 * daemon, fix its token, give another id, wait or give up, fix the field named by `path`. Errors are
 * `Error`s too, so a plain `try/catch` and `instanceof` work as well as matching on `_tag`.
 */
import * as Schema from "effect/Schema"

/** No daemon runs on the state directory, or it does not answer. */
export class DaemonNotRunningError extends Schema.TaggedError<DaemonNotRunningError>()(
  "DaemonNotRunningError",
  {
    message: Schema.String,
  },
) {}

/** The token was refused (401): not this daemon's, or the daemon made a new one. */
export class UnauthorizedError extends Schema.TaggedError<UnauthorizedError>()("UnauthorizedError", {
  message: Schema.String,
}) {}

/** No such session, run or approval (404). */
export class NotFoundError extends Schema.TaggedError<NotFoundError>()("NotFoundError", {
  message: Schema.String,
}) {}

/** The thing is not in a state that allows it (409): a finished run, an answered approval, a closed session. */
export class ConflictError extends Schema.TaggedError<ConflictError>()("ConflictError", {
  message: Schema.String,
}) {}

/** The request was refused as it is (400): `path` names the field at fault, when one is. */
export class InvalidRequestError extends Schema.TaggedError<InvalidRequestError>()("InvalidRequestError", {
  message: Schema.String,
  code: Schema.String,
  path: Schema.NullOr(Schema.String),
}) {}

/** The daemon could not do it (5xx: codex unavailable, refused, timed out), or answered what this client does not understand. */
export class DaemonError extends Schema.TaggedError<DaemonError>()("DaemonError", {
  message: Schema.String,
  status: Schema.Int,
  code: Schema.String,
}) {}

export type CodexdClientError =
  | DaemonNotRunningError
  | UnauthorizedError
  | NotFoundError
  | ConflictError
  | InvalidRequestError
  | DaemonError

/** The error an API answer of `status` with body `json` stands for. */
export const errorOfReply = (status: number, json: Record<string, unknown>): CodexdClientError => {
  const error = (json.error ?? {}) as { code?: unknown; message?: unknown; path?: unknown }
  const code = typeof error.code === "string" ? error.code : `http-${status}`
  const message = typeof error.message === "string" ? error.message : `HTTP ${status}`
  if (status === 401) return new UnauthorizedError({ message })
  if (status === 404) return new NotFoundError({ message })
  if (status === 409) return new ConflictError({ message })
  if (status === 400 || status === 413)
    return new InvalidRequestError({
      message,
      code,
      path: typeof error.path === "string" ? error.path : null,
    })
  return new DaemonError({ message, status, code })
}
