/**
 * After a crash of the daemon: runs that were queued are handed back to be scheduled. A run that was
 * running is never sent to codex again; what codex knows of it decides its end. Every turn codexd
 * starts carries the run id as its user message's client id, so `thread/read` on the new child finds
 * the run's turn by it (or, for a run started before that, by the turn id it recorded):
 * - the turn completed: the run completes with that outcome;
 * - the turn is there but did not complete (codex was killed under it, or a shared server still runs
 *   it, which is then interrupted): the run fails `daemon-restarted`;
 * - codex has no turn of the run and the run had recorded none: codex never started it, so the run
 *   goes back to the queue and runs;
 * - codex cannot be asked (the child failed or stopped): the run fails `daemon-restarted`.
 * Approvals left pending are the Approvals service's to cancel. In exec mode there is no thread/read
 * to ask (the turn's process died with the daemon), so each such run fails.
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
import { turnOfRun } from "./turnRead.ts"

export interface RecoveryDeps {
  readonly runStore: RunStore["Service"]
  readonly events: EventLog["Service"]
  readonly sessions: Sessions["Service"]
  readonly supervisor: Supervisor["Service"]
  readonly execMode: boolean
  /** Schedules a run put back in the queue (one codex never started), ahead of its session's others. */
  readonly requeue: (run: RunRecord) => Effect.Effect<void>
  /** Every run that was running is settled: scheduling may begin. */
  readonly reconciled: Effect.Effect<void>
  /** On a shared queue: the runs this node held; the others are other nodes' to look after. */
  readonly held?: ReadonlySet<RunId>
}

/** What codex knows of a run that was running. */
type Known =
  | { readonly _tag: "Turn"; readonly turn: Turn }
  | { readonly _tag: "NoTurn" }
  | { readonly _tag: "CannotTell" }

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
          yield* sessions.turnEnded(run.sessionId, turn?.id ?? run.turnId, end.sessionTurn.status)
        yield* runStore.runs
          .update(run.runId, end.update)
          .pipe(Effect.catch((error) => Effect.logError(`run ${run.runId} not saved: ${error.message}`)))
        yield* events.publish(end.event)
      })

    const ask = (client: AppServerClient | null, run: RunRecord): Effect.Effect<Known> => {
      if (run.threadId === null) return Effect.succeed({ _tag: "NoTurn" })
      if (client === null) return Effect.succeed({ _tag: "CannotTell" })
      return client.threadRead({ threadId: run.threadId, includeTurns: true }).pipe(
        Effect.map((read): Known => {
          const turn = turnOfRun(read.thread.turns ?? [], run.runId, run.turnId)
          return turn === null ? { _tag: "NoTurn" } : { _tag: "Turn", turn }
        }),
        // No rollout of the thread at all: no turn of it either.
        Effect.catchTag("UnknownThreadError", () => Effect.succeed<Known>({ _tag: "NoTurn" })),
        Effect.orElseSucceed((): Known => ({ _tag: "CannotTell" })),
      )
    }

    /** Back to the queue, as it was before it started: it runs as any queued run does. */
    const requeue = (run: RunRecord) =>
      Effect.gen(function* () {
        const after = yield* runStore.runs
          .update(run.runId, (r) => ({ ...r, status: "queued", startedAt: null, turnId: null }))
          .pipe(
            Effect.catch((error) =>
              Effect.as(Effect.logError(`run ${run.runId} not saved: ${error.message}`), null),
            ),
          )
        if (after === null || after.status !== "queued") return
        yield* events.publish({
          type: "run.requeued",
          message: `run ${run.runId} was never started by codex before the daemon restarted: queued again`,
          detail: { runId: run.runId, sessionId: run.sessionId, threadId: run.threadId, turnId: null },
        })
        yield* deps.requeue(after)
      })

    const settle = (client: AppServerClient | null, run: RunRecord) =>
      Effect.flatMap(ask(client, run), (known) => {
        switch (known._tag) {
          case "Turn": {
            const { turn } = known
            // A shared server may still be running it: nobody would watch it, so it is stopped.
            const stop =
              client !== null && run.threadId !== null && turn.status === "inProgress"
                ? Effect.ignore(client.turnInterrupt({ threadId: run.threadId, turnId: turn.id }))
                : Effect.void
            return Effect.andThen(stop, finish(run, turn))
          }
          case "NoTurn":
            // A turn id recorded means codex answered turn/start: that turn is lost, not unstarted.
            return run.turnId === null ? requeue(run) : finish(run, null)
          case "CannotTell":
            return finish(run, null)
        }
      })

    const needRead = deps.execMode ? [] : interrupted
    if (deps.execMode) for (const run of interrupted) yield* finish(run, null)
    const reconciling = new Set(needRead.map((r) => r.runId))

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
          return Effect.forEach(
            needRead,
            (run) =>
              Effect.andThen(
                settle(client, run),
                Effect.sync(() => reconciling.delete(run.runId)),
              ),
            { discard: true },
          )
        }),
        Effect.andThen(deps.reconciled),
      )
      yield* Effect.forkScoped(reconcile)
    }

    /** The runs still being settled; nothing is scheduled until it is empty. */
    return { queued, reconciling: reconciling as ReadonlySet<string> }
  })
