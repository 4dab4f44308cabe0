/**
 * After a crash of the daemon: runs that were queued are handed back to be scheduled; runs that were
 * running cannot be continued (their child was reaped), so each fails with `daemon-restarted` unless
 * `thread/read` on the new child shows its turn completed, in which case it completes with that
 * outcome. Approvals left pending are the Approvals service's to cancel. In exec mode there is no
 * thread/read to ask (the turn's process died with the daemon), so each such run fails.
 *
 * Runs are ended with `endOfRun`, as live runs are.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { AppServerEvent } from "../../domain/appServer/events.ts"
import type { Turn } from "../../domain/appServer/protocol.ts"
import type { RunId } from "../../domain/ids.ts"
import type { RunFailure, RunRecord } from "../../domain/run.ts"
import { endOfRun } from "../../domain/runEnd.ts"
import { type RunResult, RunResultBuilder } from "../../domain/runResult.ts"
import type { AppServerClient } from "../appServer/AppServerClient.ts"
import type { EventLog } from "../events/EventLog.ts"
import type { Sessions } from "../sessions/Sessions.ts"
import type { RunStore } from "../store/RunStore.ts"
import type { Supervisor } from "../supervisor/Supervisor.ts"
import { readThreadTurn } from "./turnRead.ts"

export interface RecoveryDeps {
  readonly runStore: RunStore["Service"]
  readonly events: EventLog["Service"]
  readonly sessions: Sessions["Service"]
  readonly supervisor: Supervisor["Service"]
  readonly execMode: boolean
  /** On a shared queue: the runs this node held; the others are other nodes' to look after. */
  readonly held?: ReadonlySet<RunId>
}

const restarted: RunFailure = {
  code: "daemon-restarted",
  message: "the daemon restarted while the run was running",
}

/** The result of a run as far as codex can still tell: a turn read back is folded like a live one. */
export const resultOfReadTurn = (run: RunRecord, turn: Turn | null): RunResult => {
  const builder = new RunResultBuilder()
  if (turn === null || run.threadId === null)
    return { ...builder.result(), threadId: run.threadId, turnId: run.turnId, turnStatus: null }
  for (const item of turn.items ?? []) {
    const event: AppServerEvent = {
      type: "item.completed",
      notificationMethod: "item/completed",
      emittedAtMs: null,
      threadId: run.threadId,
      turnId: turn.id,
      item,
    }
    builder.add(event)
  }
  return { ...builder.result(), threadId: run.threadId, turnId: turn.id, turnStatus: turn.status }
}

const heldRecords = (runStore: RunStore["Service"], held: ReadonlySet<RunId>) =>
  Effect.map(
    Effect.forEach([...held], (runId) => runStore.runs.get(runId)),
    (records) => records.filter((r) => r !== null),
  )

/**
 * Hands back the queued runs (oldest first); the runs that were running are ended by a fiber of the
 * current scope once the child can be asked (or cannot be, for good).
 */
export const recoverRuns = (deps: RecoveryDeps) =>
  Effect.gen(function* () {
    const { runStore, events, sessions, supervisor } = deps
    const held = deps.held
    const runs = held === undefined ? yield* runStore.runs.list : yield* heldRecords(runStore, held)
    const queued = runs
      .filter((r) => r.status === "queued")
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    const interrupted = runs.filter((r) => r.status === "running")

    const finish = (run: RunRecord, turn: Turn | null) =>
      Effect.gen(function* () {
        const completed = turn !== null && turn.status === "completed"
        const finishedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
        const end = endOfRun({
          run,
          result: resultOfReadTurn(run, turn),
          failure: completed ? null : restarted,
          finishedAt,
          recovered: true,
        })
        if (run.sessionId !== null)
          yield* sessions.turnEnded(run.sessionId, run.turnId, end.sessionTurn.status)
        yield* runStore.runs
          .update(run.runId, end.update)
          .pipe(Effect.catch((error) => Effect.logError(`run ${run.runId} not saved: ${error.message}`)))
        yield* events.publish(end.event)
      })

    const readTurn = (client: AppServerClient, run: RunRecord) =>
      run.threadId === null || run.turnId === null
        ? Effect.succeed(null)
        : readThreadTurn(client, run.threadId, run.turnId).pipe(Effect.orElseSucceed(() => null))

    // Runs that never got a turn need nothing from codex.
    const needRead = deps.execMode ? [] : interrupted.filter((r) => r.threadId !== null && r.turnId !== null)
    for (const run of interrupted) if (!needRead.includes(run)) yield* finish(run, null)

    if (needRead.length > 0) {
      // The first moment codex can be asked, or it is clear it cannot be (the child failed or stopped).
      const reconcile = supervisor.changes.pipe(
        Stream.filter(
          (child) =>
            child.client !== null || child.state.status === "failed" || child.state.status === "stopped",
        ),
        Stream.runHead,
        Effect.flatMap((first) => {
          const client = first._tag === "Some" ? first.value.client : null
          return Effect.forEach(needRead, (run) =>
            Effect.flatMap(client === null ? Effect.succeed(null) : readTurn(client, run), (turn) =>
              finish(run, turn),
            ),
          )
        }),
      )
      yield* Effect.forkScoped(reconcile)
    }

    return { queued, reconciling: new Set(needRead.map((r) => r.runId)) }
  })
