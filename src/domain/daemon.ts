/** The daemon's identity (stable per state directory) and its persisted state, child included. */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ChildStrategy, ServerMode } from "./config.ts"
import { DaemonId } from "./ids.ts"
import { NonNegativeInt, Timestamp, UnknownRecord } from "./json.ts"

export const DaemonIdentity = Schema.Struct({
  daemonId: DaemonId,
  nodeId: Schema.String,
  repoRoot: Schema.String,
  createdAt: Timestamp,
  version: Schema.NullOr(Schema.String),
})
export type DaemonIdentity = typeof DaemonIdentity.Type

export const ManagedChildStatus = Schema.Literals([
  "external",
  "failed",
  "idle",
  "running",
  "starting",
  "stopped",
])
export type ManagedChildStatus = typeof ManagedChildStatus.Type

export const ManagedChildState = Schema.Struct({
  strategy: ChildStrategy,
  mode: ServerMode,
  endpoint: Schema.String,
  status: ManagedChildStatus,
  command: Schema.NullOr(Schema.String),
  args: Schema.Array(Schema.String),
  cwd: Schema.NullOr(Schema.String),
  pid: Schema.NullOr(Schema.Int),
  startedAt: Schema.NullOr(Timestamp),
  exitedAt: Schema.NullOr(Timestamp),
  exitCode: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
  lastError: Schema.NullOr(Schema.String),
  /**
   * The userAgent the child answered `initialize` with (the codex build actually running); null
   * before that. Files written before this field existed decode it as null.
   */
  userAgent: Schema.NullOr(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null))),
  /** Automatic restarts since the last manual start or restart. */
  restartCount: NonNegativeInt,
  /** The supervisor's machine state (`alive.starting`, `backoff`, ...), finer than `status`. */
  machineState: Schema.String,
})
export type ManagedChildState = typeof ManagedChildState.Type

export const DaemonState = Schema.Struct({
  started: Schema.Boolean,
  startedAt: Schema.NullOr(Timestamp),
  stoppedAt: Schema.NullOr(Timestamp),
  updatedAt: Timestamp,
  pid: Schema.NullOr(Schema.Int),
  /** The address the local API actually bound (port 0 picks one), so clients can find it. */
  apiBase: Schema.NullOr(Schema.String),
  child: ManagedChildState,
  /**
   * codex's rate-limit windows for its account (`account/rateLimits/read`, then each
   * `account/rateLimits/updated` merged in): used percent, window length and reset time.
   */
  rateLimits: Schema.optionalKey(Schema.NullOr(UnknownRecord)),
  /** Queued runs wait, not fail, until `until`: a turn failed on the account's usage limit. */
  usageHold: Schema.optionalKey(
    Schema.NullOr(Schema.Struct({ until: Timestamp, runId: Schema.String, reason: Schema.String })),
  ),
})
export type DaemonState = typeof DaemonState.Type

/**
 * A rate-limit update merged into what is known: codex sends sparse updates, whose absent or null
 * fields do not clear what an earlier snapshot said.
 */
export const mergeRateLimits = (
  known: Readonly<Record<string, unknown>> | null | undefined,
  update: Readonly<Record<string, unknown>>,
): Record<string, unknown> => {
  const merged: Record<string, unknown> = { ...known }
  for (const [key, value] of Object.entries(update))
    if (value !== null && value !== undefined) merged[key] = value
  return merged
}
