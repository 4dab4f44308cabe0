/**
 * The orphan sweep of Runs: the invariant behind every run is that a run is `running` only while a
 * live turn of this daemon is behind it on a connection that is still open. Anything else (a write
 * that landed late, a turn whose connection closed unseen) is found here and ended. On a shared queue
 * only the runs this node holds are looked at.
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
import type { RunQueue } from "./RunQueue.ts"
import { heldRuns } from "./sharedRuns.ts"

export interface SweepDeps {
  readonly live: ReadonlyMap<RunId, LiveRun>
  readonly runStore: RunStore["Service"]
  readonly queue: RunQueue["Service"]
  readonly sessions: Sessions["Service"]
  readonly events: EventLog["Service"]
  readonly execMode: boolean
  /** Runs recovery is still reconciling: not orphans. */
  readonly recovery: { readonly reconciling: ReadonlySet<string> }
}

/**
 * The invariant behind every run: a run is `running` only while a live turn of this daemon is
 * behind it on a connection that is still open. Anything else (a write that landed late, a turn
 * whose connection closed unseen) is found here and ended.
 */
export const sweepOrphans = (deps: SweepDeps): Effect.Effect<void> =>
  Effect.gen(function* () {
    const { live, runStore, queue, sessions, events, execMode, recovery } = deps
    for (const run of live.values()) {
      if (run.isRunning && !execMode && run.client !== null && run.client.isClosed())
        run.send({ type: "CHILD.EXITED", reason: "the app-server connection of the turn is gone" })
    }
    const stored = yield* heldRuns(runStore, queue, live)
    const at = new Date(yield* Clock.currentTimeMillis).toISOString()
    for (const record of stored) {
      if (record.status !== "running" || live.has(record.runId) || recovery.reconciling.has(record.runId))
        continue
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
