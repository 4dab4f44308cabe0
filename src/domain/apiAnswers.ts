/**
 * What the local API answers, as schemas: the routes declare them (for the OpenAPI document) and
 * every client (the CLI, programs) decodes the answers with them, so both ends agree on one shape.
 */
import * as Schema from "effect/Schema"
import { ApprovalRecord } from "./approval.ts"
import { RunRecord } from "./run.ts"
import { SessionRecord } from "./session.ts"

export const SessionList = Schema.Struct({ sessions: Schema.Array(SessionRecord) })
export const RunList = Schema.Struct({ runs: Schema.Array(RunRecord) })
export const ApprovalList = Schema.Struct({ approvals: Schema.Array(ApprovalRecord) })
export const Health = Schema.Struct({ ok: Schema.Boolean })
export const RestartAnswer = Schema.Struct({
  restarting: Schema.Boolean,
  /** The child machine's state the restart found. */
  from: Schema.String,
  action: Schema.String,
})
export const ShutdownAnswer = Schema.Struct({ stopping: Schema.Boolean })
export const ErrorAnswer = Schema.Struct({
  error: Schema.Struct({
    code: Schema.String,
    message: Schema.String,
    /** The request field at fault, for a 400 about one. */
    path: Schema.optionalKey(Schema.String),
  }),
})
