/**
 * After a crash of the daemon: runs that were queued are handed back to be scheduled; runs that were
 * running cannot be continued (their child was reaped), so each fails with `daemon-restarted` unless
 * `thread/read` on the new child shows its turn completed, in which case it completes with that
 * outcome. Approvals left pending are the Approvals service's to cancel. In exec mode there is no
 * thread/read to ask (the turn's process died with the daemon), so each such run fails.
 */
import * as Effect from "effect/Effect"
import type { AppServerEvent } from "../../domain/appServer/events.ts"
import type { Turn } from "../../domain/appServer/protocol.ts"
import type { RunRecord } from "../../domain/run.ts"
import { RunResultBuilder, summarize } from "../../domain/runResult.ts"
import type { RunFailure } from "../../machines/runMachine.ts"
import type { AppServerClient } from "../appServer/AppServerClient.ts"
import type { EventLog } from "../events/EventLog.ts"
import type { Sessions } from "../sessions/Sessions.ts"
import type { Store } from "../store/Store.ts"
import type { Supervisor } from "../supervisor/Supervisor.ts"

export interface RecoveryDeps {
  readonly store: Store["Service"]
  readonly events: EventLog["Service"]
  readonly sessions: Sessions["Service"]
  readonly supervisor: Supervisor["Service"]
  readonly runEffect: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
  readonly execMode: boolean
}

const restarted: RunFailure = {
  code: "daemon-restarted",
  message: "the daemon restarted while the run was running",
}

/** The result of a run as far as codex can still tell: a turn read back is folded like a live one. */
const resultOf = (run: RunRecord, turn: Turn | null) => {
  const builder = new RunResultBuilder()
  if (turn === null || run.threadId === null)
    return { ...builder.result(), threadId: run.threadId, turnId: run.turnId, turnStatus: null }
  for (const item of turn.items ?? []) {
    builder.add({
      type: "item.completed",
      notificationMethod: "item/completed",
      emittedAtMs: null,
      threadId: run.threadId,
      turnId: turn.id,
      item,
    } as AppServerEvent)
  }
  return { ...builder.result(), threadId: run.threadId, turnId: turn.id, turnStatus: turn.status }
}

export const recoverRuns = (deps: RecoveryDeps) =>
  Effect.gen(function* () {
    const { store, events, sessions, supervisor, runEffect } = deps
    const runs = (yield* store.runs).runs
    const queued = runs
      .filter((r) => r.status === "queued")
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    const interrupted = runs.filter((r) => r.status === "running")

    const finish = (run: RunRecord, turn: Turn | null) =>
      Effect.gen(function* () {
        const completed = turn !== null && turn.status === "completed"
        const failure = completed ? null : restarted
        const result = resultOf(run, turn)
        const summary = summarize(result, failure)
        const now = new Date().toISOString()
        const record: RunRecord = {
          ...run,
          status: completed ? "completed" : "failed",
          finishedAt: now,
          updatedAt: now,
          error: failure?.message ?? null,
          errorCode: failure?.code ?? null,
          summary,
          result,
        }
        if (run.sessionId !== null)
          yield* sessions.turnEnded(run.sessionId, run.turnId, turn?.status ?? "interrupted")
        yield* store
          .updateRuns((registry) => ({
            ...registry,
            runs: registry.runs.map((r) => (r.runId === run.runId ? record : r)),
          }))
          .pipe(Effect.catch((error) => Effect.logError(`run ${run.runId} not saved: ${error.message}`)))
        yield* events.publish({
          level: completed ? "info" : "error",
          type: completed ? "run.completed" : "run.failed",
          message: `run ${run.runId} ${summary} (recovered after a restart)`,
          detail: {
            runId: run.runId,
            sessionId: run.sessionId,
            threadId: run.threadId,
            turnId: run.turnId,
            status: record.status,
            errorCode: record.errorCode,
            recovered: true,
          },
        })
      })

    const readTurn = (client: AppServerClient, run: RunRecord) =>
      run.threadId === null || run.turnId === null
        ? Effect.succeed(null)
        : client.threadRead({ threadId: run.threadId, includeTurns: true }).pipe(
            Effect.map((read) => read.thread.turns?.find((t) => t.id === run.turnId) ?? null),
            Effect.orElseSucceed(() => null),
          )

    // Runs that never got a turn need nothing from codex.
    const needRead = deps.execMode ? [] : interrupted.filter((r) => r.threadId !== null && r.turnId !== null)
    for (const run of interrupted) if (!needRead.includes(run)) yield* finish(run, null)

    if (needRead.length > 0) {
      let done = false
      const reconcile = () => {
        if (done) return
        const client = supervisor.client()
        const status = supervisor.childState().status
        if (client === null && status !== "failed" && status !== "stopped") return
        done = true
        stopListening()
        void runEffect(
          Effect.forEach(needRead, (run) =>
            Effect.flatMap(client === null ? Effect.succeed(null) : readTurn(client, run), (turn) =>
              finish(run, turn),
            ),
          ),
        )
      }
      const stopListening = supervisor.onChange(reconcile)
      reconcile()
    }

    return { queued }
  })
