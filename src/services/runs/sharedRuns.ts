/**
 * What Runs does differently on a queue shared by several nodes: it looks after only the runs this
 * node holds, and a queued run (live on no node yet) is interrupted by taking it out of the queue.
 */
import * as Effect from "effect/Effect"
import { RunStateError } from "../../domain/errors.ts"
import type { RunId } from "../../domain/ids.ts"
import { isFinished, type RunRecord } from "../../domain/run.ts"
import { endOfRun } from "../../domain/runEnd.ts"
import { RunResultBuilder } from "../../domain/runResult.ts"
import type { EventLog } from "../events/EventLog.ts"
import { nowIso } from "../now.ts"
import type { RunStore } from "../store/RunStore.ts"
import type { StoreError } from "../store/Store.ts"
import type { RunQueue } from "./RunQueue.ts"

/**
 * The runs whose fate is this node's: all of them on its own queue; on a shared one, those it
 * claimed. A claim whose run ended with nothing live behind it (ended by recovery) is released.
 */
export const heldRuns = (
  runStore: RunStore["Service"],
  queue: RunQueue["Service"],
  live: ReadonlyMap<RunId, unknown>,
): Effect.Effect<ReadonlyArray<RunRecord>, StoreError> =>
  Effect.gen(function* () {
    if (queue.shared === null) return yield* runStore.runs.list
    const held: Array<RunRecord> = []
    for (const runId of yield* queue.shared.claimedHere) {
      const record = yield* runStore.runs.get(runId)
      if (record !== null && !isFinished(record)) held.push(record)
      else if (!live.has(runId) && record?.sessionId != null)
        yield* queue.release({ runId, sessionId: record.sessionId })
    }
    return held
  })

/** A run taken out of the queue before any node started it: it ends `interrupted`. */
export const endQueued = (runStore: RunStore["Service"], events: EventLog["Service"], runId: RunId) =>
  Effect.gen(function* () {
    const record = yield* runStore.runs.get(runId)
    if (record === null) return yield* Effect.die(new Error(`run ${runId} was queued with no record`))
    const end = endOfRun({
      run: record,
      result: new RunResultBuilder().result(),
      failure: { code: "interrupted", message: "interrupted before it started" },
      finishedAt: yield* nowIso,
    })
    const after = yield* runStore.runs.update(runId, end.update)
    yield* events.publish(end.event)
    return after ?? record
  })

/**
 * A turn starts only once the store took its run as running: a shared store refuses that to a node
 * whose claim was handed to another node (it was found lost meanwhile), and the turn is not started.
 */
export const recordedRunning = (record: RunRecord): Effect.Effect<void, RunStateError> =>
  record.status === "running"
    ? Effect.void
    : Effect.fail(new RunStateError({ runId: record.runId, status: record.status, action: "start" }))
