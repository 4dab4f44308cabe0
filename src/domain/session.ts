/** Sessions: one Codex thread each, and the registry that holds them. */
import * as Schema from "effect/Schema"
import { SessionId } from "./ids.ts"
import { StringRecord, Timestamp } from "./json.ts"

export const SessionPurpose = Schema.Literals(["duplex", "smoke", "worker"])
export type SessionPurpose = typeof SessionPurpose.Type

export const SessionStatus = Schema.Literals(["active", "closed"])
export type SessionStatus = typeof SessionStatus.Type

export const SessionRecord = Schema.Struct({
  sessionId: SessionId,
  purpose: SessionPurpose,
  threadId: Schema.NullOr(Schema.String),
  status: SessionStatus,
  endpoint: Schema.String,
  childPid: Schema.NullOr(Schema.Int),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  cwd: Schema.NullOr(Schema.String),
  model: Schema.NullOr(Schema.String),
  modelProvider: Schema.NullOr(Schema.String),
  serviceTier: Schema.NullOr(Schema.String),
  reasoningEffort: Schema.NullOr(Schema.String),
  currentTurnId: Schema.NullOr(Schema.String),
  lastTurnId: Schema.NullOr(Schema.String),
  lastTurnStatus: Schema.NullOr(Schema.String),
  metadata: StringRecord,
})
export type SessionRecord = typeof SessionRecord.Type

export const SessionRegistryState = Schema.Struct({
  updatedAt: Schema.NullOr(Timestamp),
  sessions: Schema.Array(SessionRecord),
})
export type SessionRegistryState = typeof SessionRegistryState.Type

export const emptySessionRegistry: SessionRegistryState = { updatedAt: null, sessions: [] }
