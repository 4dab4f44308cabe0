/** The bodies the local API accepts, as schemas: a bad one is refused with the path of the bad field. */
import * as Schema from "effect/Schema"
import { ApprovalDecision, ApprovalMode } from "./approval.ts"
import { AskForApproval, SandboxMode } from "./appServer/protocol.ts"
import { SessionId } from "./ids.ts"
import { PositiveInt, StringRecord } from "./json.ts"
import { SessionPurpose } from "./session.ts"
import { SandboxDetails, TurnOptions } from "./turnOptions.ts"

const optionalText = Schema.optionalKey(Schema.NullOr(Schema.String))

export const CreateSessionBody = Schema.Struct({
  purpose: Schema.optionalKey(SessionPurpose),
  cwd: optionalText,
  model: optionalText,
  modelProvider: optionalText,
  serviceTier: optionalText,
  reasoningEffort: optionalText,
  approvalPolicy: Schema.optionalKey(Schema.NullOr(AskForApproval)),
  sandbox: Schema.optionalKey(Schema.NullOr(SandboxMode)),
  sandboxPolicy: Schema.optionalKey(Schema.NullOr(SandboxDetails)),
  developerInstructions: optionalText,
  baseInstructions: optionalText,
  approvals: Schema.optionalKey(ApprovalMode),
  maxTokens: Schema.optionalKey(Schema.NullOr(PositiveInt)),
  metadata: Schema.optionalKey(StringRecord),
})
export type CreateSessionBody = typeof CreateSessionBody.Type

/** A run: its prompt, where it runs, and the turn options (`TurnOptions`) beside them. */
export const CreateRunBody = Schema.Struct({
  prompt: Schema.NonEmptyString,
  sessionId: Schema.optionalKey(Schema.NullOr(SessionId)),
  cwd: optionalText,
  approvals: Schema.optionalKey(Schema.NullOr(ApprovalMode)),
  metadata: Schema.optionalKey(StringRecord),
  ...TurnOptions.fields,
})
export type CreateRunBody = typeof CreateRunBody.Type

export const SteerBody = Schema.Struct({ text: Schema.NonEmptyString })

export const ApproveBody = Schema.Struct({ decision: ApprovalDecision })
