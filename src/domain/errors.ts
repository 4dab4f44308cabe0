/**
 * The expected failures of asking codexd to do something with a session, run or approval. The API
 * maps each tag to a status (not found → 404, wrong state → 409); nobody branches on message text.
 */
import * as Schema from "effect/Schema"

export class SessionNotFoundError extends Schema.TaggedError<SessionNotFoundError>()("SessionNotFoundError", {
  sessionId: Schema.String,
}) {
  override get message(): string {
    return `no session ${this.sessionId}`
  }
}

export class SessionClosedError extends Schema.TaggedError<SessionClosedError>()("SessionClosedError", {
  sessionId: Schema.String,
}) {
  override get message(): string {
    return `session ${this.sessionId} is closed`
  }
}

export class RunNotFoundError extends Schema.TaggedError<RunNotFoundError>()("RunNotFoundError", {
  runId: Schema.String,
}) {
  override get message(): string {
    return `no run ${this.runId}`
  }
}

/** The run is not in a state that allows the action (steering a finished run, for one). */
export class RunStateError extends Schema.TaggedError<RunStateError>()("RunStateError", {
  runId: Schema.String,
  status: Schema.String,
  action: Schema.String,
}) {
  override get message(): string {
    return `cannot ${this.action} run ${this.runId}: it is ${this.status}`
  }
}

export class ApprovalNotFoundError extends Schema.TaggedError<ApprovalNotFoundError>()(
  "ApprovalNotFoundError",
  { approvalId: Schema.String },
) {
  override get message(): string {
    return `no approval ${this.approvalId}`
  }
}

export class ApprovalSettledError extends Schema.TaggedError<ApprovalSettledError>()("ApprovalSettledError", {
  approvalId: Schema.String,
  status: Schema.String,
}) {
  override get message(): string {
    return `approval ${this.approvalId} is already ${this.status}`
  }
}

/** Nothing to talk to: the app-server is not running (starting, backing off, failed or stopped). */
export class AppServerUnavailableError extends Schema.TaggedError<AppServerUnavailableError>()(
  "AppServerUnavailableError",
  { status: Schema.String },
) {
  override get message(): string {
    return `the app-server is not ready (${this.status})`
  }
}

/** A run or session asks for something codexd cannot pass on (an option exec mode lacks, a bad path). */
export class InvalidOptionError extends Schema.TaggedError<InvalidOptionError>()("InvalidOptionError", {
  option: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `${this.option}: ${this.reason}`
  }
}
