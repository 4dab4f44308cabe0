/** Runs: a prompt executed as one turn, and the registry that holds them. */
import * as Schema from "effect/Schema"
import { ApprovalMode } from "./approval.ts"
import { newRunId, RunId, SessionId } from "./ids.ts"
import { StringRecord, Timestamp } from "./json.ts"
import { RunResult } from "./runResult.ts"
import { RunOperation } from "./threadOperations.ts"
import { TurnOptions } from "./turnOptions.ts"

export const RunStatus = Schema.Literals(["completed", "failed", "queued", "running"])
export type RunStatus = typeof RunStatus.Type

/** Why a run failed: a closed set, so a program can branch on it. */
export const RunErrorCode = Schema.Literals([
  "turn-failed",
  "interrupted",
  "child-exited",
  "stalled",
  "approval-timed-out",
  "rejected-at-start",
  "daemon-restarted",
  "output-invalid",
  "budget-exceeded",
  "node-lost",
])
export type RunErrorCode = typeof RunErrorCode.Type

/** A run's failure: its code, a sentence, and codex's own details when it gave any. */
export interface RunFailure {
  readonly code: RunErrorCode
  readonly message: string
  readonly codexErrorInfo?: unknown
}

export const RunRecord = Schema.Struct({
  runId: RunId,
  sessionId: Schema.NullOr(SessionId),
  /** The thread and turn the run executes as, once known: kept so a restarted daemon can look them up. */
  threadId: Schema.NullOr(Schema.String),
  turnId: Schema.NullOr(Schema.String),
  /** Overrides the session's approval mode for this run. */
  approvals: Schema.NullOr(ApprovalMode),
  status: RunStatus,
  adapter: Schema.String,
  prompt: Schema.String,
  purpose: Schema.NullOr(Schema.String),
  cwd: Schema.NullOr(Schema.String),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  startedAt: Schema.NullOr(Timestamp),
  finishedAt: Schema.NullOr(Timestamp),
  /** Human-readable failure; `errorCode` says which kind of failure it is. */
  error: Schema.NullOr(Schema.String),
  errorCode: Schema.NullOr(RunErrorCode),
  summary: Schema.NullOr(Schema.String),
  metadata: StringRecord,
  /** What the run asks of codex beyond its session's defaults (absent: nothing). */
  options: Schema.optionalKey(TurnOptions),
  /** A review or a compaction instead of a prompt (absent: a prompt). */
  operation: Schema.optionalKey(RunOperation),
  result: Schema.NullOr(RunResult),
})
export type RunRecord = typeof RunRecord.Type

export const RunRegistryState = Schema.Struct({
  updatedAt: Schema.NullOr(Timestamp),
  runs: Schema.Array(RunRecord),
})
export type RunRegistryState = typeof RunRegistryState.Type

export const emptyRunRegistry: RunRegistryState = { updatedAt: null, runs: [] }

export const isFinished = (run: RunRecord): boolean => run.status === "completed" || run.status === "failed"

/**
 * One change of a run's record, applied to the record as stored. A finished run is final: whatever
 * arrives after its end (a write of a turn that was still starting) leaves it as it is.
 */
export const applyRunUpdate = (
  current: RunRecord,
  f: (run: RunRecord) => RunRecord,
  now: string,
): RunRecord => (isFinished(current) ? current : { ...f(current), updatedAt: now })

/** What a caller says about a new run. Without a session, the run gets a new worker session. */
export interface RunSpec {
  readonly prompt: string
  readonly sessionId?: SessionId | null
  readonly cwd?: string | null
  readonly approvals?: ApprovalMode | null
  readonly metadata?: Readonly<Record<string, string>>
  readonly options?: TurnOptions
  readonly operation?: RunOperation
}

export const newRunRecord = (
  spec: RunSpec,
  session: { readonly sessionId: SessionId; readonly purpose: string; readonly cwd: string | null },
  adapter: string,
  now: string,
): RunRecord => ({
  runId: newRunId(),
  sessionId: session.sessionId,
  threadId: null,
  turnId: null,
  approvals: spec.approvals ?? null,
  status: "queued",
  adapter,
  prompt: spec.prompt,
  purpose: session.purpose,
  cwd: spec.cwd ?? session.cwd,
  createdAt: now,
  updatedAt: now,
  startedAt: null,
  finishedAt: null,
  error: null,
  errorCode: null,
  summary: null,
  metadata: { ...spec.metadata },
  ...(spec.options === undefined || Object.keys(spec.options).length === 0 ? {} : { options: spec.options }),
  ...(spec.operation === undefined ? {} : { operation: spec.operation }),
  result: null,
})
