/**
 * The invariant behind every run: a run is `running` only while a live turn of this daemon is behind
 * it on a connection that is still open. Anything else (a write that landed late, a turn whose
 * connection closed unseen) is found by this sweep, which Runs repeats, and ended `child-exited`.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { RunId } from "../../domain/ids.ts"
import { endOfRun } from "../../domain/runEnd.ts"
import { RunResultBuilder } from "../../domain/runResult.ts"
import type { EventLog } from "../events/EventLog.ts"
import type { Sessions } from "../sessions/Sessions.ts"
import type { RunStore } from "../store/RunStore.ts"
import type { LiveRun } from "./liveRun.ts"

export interface OrphanSweepDeps {
  readonly live: ReadonlyMap<RunId, LiveRun>
  readonly runStore: RunStore["Service"]
  readonly sessions: Sessions["Service"]
  readonly events: EventLog["Service"]
  readonly execMode: boolean
  /** Runs recovery is still settling: not orphans. */
  readonly reconciling: ReadonlySet<string>
}

export const sweepOrphans = ({ live, runStore, sessions, events, execMode, reconciling }: OrphanSweepDeps) =>
  Effect.gen(function* () {
    for (const run of live.values()) {
      if (run.isRunning && !execMode && run.client !== null && run.client.isClosed())
        run.send({ type: "CHILD.EXITED", reason: "the app-server connection of the turn is gone" })
    }
    const stored = yield* runStore.runs.list
    const at = new Date(yield* Clock.currentTimeMillis).toISOString()
    for (const record of stored) {
      if (record.status !== "running" || live.has(record.runId) || reconciling.has(record.runId)) continue
      const end = endOfRun({
        run: record,
        result: { ...new RunResultBuilder().result(), threadId: record.threadId, turnId: record.turnId },
        failure: { code: "child-exited", message: "the run was left running with no turn behind it" },
        finishedAt: at,
      })
      const after = yield* runStore.runs.update(record.runId, end.update)
      // Ended meanwhile by whoever was behind it after all: nothing to do.
      if (after === null || after.errorCode !== "child-exited" || after.finishedAt !== at) continue
      if (record.sessionId !== null)
        yield* sessions.turnEnded(record.sessionId, end.sessionTurn.turnId, end.sessionTurn.status)
      yield* events.publish(end.event)
    }
  }).pipe(Effect.catch((error) => Effect.logError(`orphan sweep failed: ${error.message}`)))
