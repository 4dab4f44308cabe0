/** What `codexd status --json` and `codexd smoke --json` print. */
import * as Schema from "effect/Schema"
import { ResolvedConfig } from "./config.ts"
import { DaemonIdentity, DaemonState } from "./daemon.ts"
import { RecentEventCacheState } from "./event.ts"
import { RunRegistryState } from "./run.ts"
import { SessionRegistryState } from "./session.ts"
import { UsageTotals } from "./usage.ts"

export const StatusSnapshot = Schema.Struct({
  config: ResolvedConfig,
  identity: DaemonIdentity,
  daemon: DaemonState,
  sessionRegistry: SessionRegistryState,
  runRegistry: RunRegistryState,
  recentEvents: RecentEventCacheState,
  /** Tokens used, for the daemon and per session, over the runs in the registry. */
  usage: UsageTotals,
})
export type StatusSnapshot = typeof StatusSnapshot.Type

export const SmokeCheck = Schema.Struct({
  name: Schema.String,
  status: Schema.Literals(["failed", "ok"]),
  detail: Schema.String,
})
export type SmokeCheck = typeof SmokeCheck.Type

export const SmokeResult = Schema.Struct({
  checks: Schema.Array(SmokeCheck),
  /** Null only when no daemon could ever run on the state directory (so there is nothing to show). */
  snapshot: Schema.NullOr(StatusSnapshot),
})
export type SmokeResult = typeof SmokeResult.Type
