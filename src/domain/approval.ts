/**
 * Approvals: what codex asked permission for, and how codexd answers. A session has an approval mode
 * (a run may override it): answer at once (`auto-accept`, `auto-decline`) or `ask` a person, who has
 * until a deadline; an unanswered approval is declined at its deadline. An asked approval is a
 * persisted record from the moment it is asked until it is settled.
 */
import * as Schema from "effect/Schema"
import { RunId, SessionId } from "./ids.ts"
import { Timestamp } from "./json.ts"

export const ApprovalMode = Schema.Literals(["auto-accept", "auto-decline", "ask"])
export type ApprovalMode = typeof ApprovalMode.Type

export const ApprovalDecision = Schema.Literals(["accept", "acceptForSession", "decline", "cancel"])
export type ApprovalDecision = typeof ApprovalDecision.Type

/**
 * pending: waiting for an answer; answered: a person (or the mode) decided; expired: declined at the
 * deadline; cancelled: the run ended, the child exited or the daemon restarted first;
 * resolved-elsewhere: codex settled the request before codexd answered (`serverRequest/resolved`):
 * another client of a shared app-server answered first, or codex withdrew it. `resolved` is that
 * status as older versions recorded it.
 */
export const ApprovalStatus = Schema.Literals([
  "pending",
  "answered",
  "expired",
  "cancelled",
  "resolved-elsewhere",
  "resolved",
])
export type ApprovalStatus = typeof ApprovalStatus.Type

export const ApprovalKind = Schema.Literals(["command", "fileChange", "permissions"])
export type ApprovalKind = typeof ApprovalKind.Type

export const ApprovalRecord = Schema.Struct({
  approvalId: Schema.NonEmptyString,
  runId: RunId,
  sessionId: SessionId,
  threadId: Schema.String,
  turnId: Schema.String,
  itemId: Schema.String,
  kind: ApprovalKind,
  status: ApprovalStatus,
  /** The command to run (command approvals). */
  command: Schema.NullOr(Schema.String),
  cwd: Schema.NullOr(Schema.String),
  reason: Schema.NullOr(Schema.String),
  /** The proposed change (file-change approvals), as a unified diff when codex said what it is. */
  diff: Schema.NullOr(Schema.String),
  availableDecisions: Schema.Array(ApprovalDecision),
  decision: Schema.NullOr(ApprovalDecision),
  createdAt: Timestamp,
  deadlineAt: Timestamp,
  settledAt: Schema.NullOr(Timestamp),
})
export type ApprovalRecord = typeof ApprovalRecord.Type

export const ApprovalRegistryState = Schema.Struct({
  updatedAt: Schema.NullOr(Timestamp),
  approvals: Schema.Array(ApprovalRecord),
})
export type ApprovalRegistryState = typeof ApprovalRegistryState.Type

export const emptyApprovalRegistry: ApprovalRegistryState = { updatedAt: null, approvals: [] }
