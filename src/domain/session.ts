/** Sessions: one Codex thread each, and the registry that holds them. */
import * as Schema from "effect/Schema"
import { ApprovalMode } from "./approval.ts"
import { AskForApproval, SandboxMode } from "./appServer/protocol.ts"
import { newSessionId, SessionId } from "./ids.ts"
import { PositiveInt, StringRecord, Timestamp } from "./json.ts"
import { SandboxDetails } from "./turnOptions.ts"

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
  /** codex's own approval policy for the thread (`untrusted`, `on-request`, `never`, ...). */
  approvalPolicy: Schema.NullOr(AskForApproval),
  /** codex's sandbox mode for the thread (`read-only`, `workspace-write`, `danger-full-access`). */
  sandbox: Schema.NullOr(SandboxMode),
  /** Writable roots and network access of the sandbox (absent in records older than the field). */
  sandboxPolicy: Schema.optionalKey(Schema.NullOr(SandboxDetails)),
  /** Instructions codex adds to the thread's (developer) or uses instead of its own (base). */
  developerInstructions: Schema.optionalKey(Schema.NullOr(Schema.String)),
  baseInstructions: Schema.optionalKey(Schema.NullOr(Schema.String)),
  /** How codexd answers the approvals codex asks for in this session. */
  approvals: ApprovalMode,
  /** The token budget of each run of the session that sets none of its own (absent: none). */
  maxTokens: Schema.optionalKey(Schema.NullOr(PositiveInt)),
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

/** What a caller says about a new session; everything else is codexd's to fill in. */
export interface SessionSpec {
  readonly purpose: SessionPurpose
  readonly cwd?: string | null
  readonly model?: string | null
  readonly modelProvider?: string | null
  readonly serviceTier?: string | null
  readonly reasoningEffort?: string | null
  readonly approvalPolicy?: AskForApproval | null
  readonly sandbox?: SandboxMode | null
  readonly sandboxPolicy?: SandboxDetails | null
  readonly developerInstructions?: string | null
  readonly baseInstructions?: string | null
  readonly approvals?: ApprovalMode
  readonly maxTokens?: number | null
  readonly metadata?: Readonly<Record<string, string>>
}

/** A new session, not yet bound to a thread. */
export const newSessionRecord = (
  spec: SessionSpec,
  defaults: { readonly approvals: ApprovalMode; readonly endpoint: string },
  now: string,
): SessionRecord => ({
  sessionId: newSessionId(),
  purpose: spec.purpose,
  threadId: null,
  status: "active",
  endpoint: defaults.endpoint,
  childPid: null,
  createdAt: now,
  updatedAt: now,
  cwd: spec.cwd ?? null,
  model: spec.model ?? null,
  modelProvider: spec.modelProvider ?? null,
  serviceTier: spec.serviceTier ?? null,
  reasoningEffort: spec.reasoningEffort ?? null,
  approvalPolicy: spec.approvalPolicy ?? null,
  sandbox: spec.sandbox ?? null,
  sandboxPolicy: spec.sandboxPolicy ?? null,
  developerInstructions: spec.developerInstructions ?? null,
  baseInstructions: spec.baseInstructions ?? null,
  approvals: spec.approvals ?? defaults.approvals,
  ...(spec.maxTokens == null ? {} : { maxTokens: spec.maxTokens }),
  currentTurnId: null,
  lastTurnId: null,
  lastTurnStatus: null,
  metadata: { ...spec.metadata },
})
