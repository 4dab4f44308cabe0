/**
 * RunStore: the run and session records, as the Runs and Sessions services use them: insert, look
 * up by id, list, and ordered updates. An update is a function of the record as stored when it is
 * applied, never of a copy someone held, and a finished run never changes again: a late write (a
 * turn that was starting when its run failed) cannot bring back an earlier state.
 *
 * `RunStore.fileLayer` keeps them in the state directory's registries through the Store (the
 * single-node default). Another implementation (a shared database) is provided in the composition
 * root; nothing else changes.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { RunId, SessionId } from "../../domain/ids.ts"
import { applyRunUpdate, type RunRecord } from "../../domain/run.ts"
import type { RunResult } from "../../domain/runResult.ts"
import type { SessionRecord } from "../../domain/session.ts"
import { redactSecrets, redactText } from "../logging/redact.ts"
import { nowIso } from "../now.ts"
import { Store, type StoreError } from "./Store.ts"

const redactFinished = (run: RunRecord): RunRecord => ({
  ...run,
  result: run.result === null ? null : (redactSecrets(run.result) as RunResult),
  error: run.error === null ? null : redactText(run.error),
  summary: run.summary === null ? null : redactText(run.summary),
})

/** A run's record after `f`, as every store writes it: final once finished, redacted at its end. */
export const nextRunRecord = (run: RunRecord, f: (run: RunRecord) => RunRecord, now: string): RunRecord => {
  const next = applyRunUpdate(run, f, now)
  // The end brings what codex printed (command output, messages): no secret is kept.
  return next.finishedAt !== null && run.finishedAt === null ? redactFinished(next) : next
}

export interface RecordTable<Id, R> {
  /** The record, or null when there is none. */
  readonly get: (id: Id) => Effect.Effect<R | null, StoreError>
  readonly list: Effect.Effect<ReadonlyArray<R>, StoreError>
  readonly insert: (record: R) => Effect.Effect<void, StoreError>
  /** Apply `f` to the stored record, durably; the record after, or null when there is none. */
  readonly update: (id: Id, f: (record: R) => R) => Effect.Effect<R | null, StoreError>
}

export class RunStore extends Context.Service<
  RunStore,
  {
    /** Runs; `get` also finds archived ones, `list` holds the registry (unfinished and recent runs). */
    readonly runs: RecordTable<RunId, RunRecord>
    readonly sessions: RecordTable<SessionId, SessionRecord>
  }
>()("codexd/RunStore") {
  /** The registries of the state directory (runs.json, runs.archive.jsonl, sessions.json). */
  static readonly fileLayer: Layer.Layer<RunStore, never, Store> = Layer.effect(
    RunStore,
    Effect.gen(function* () {
      const store = yield* Store
      return RunStore.of({
        runs: {
          get: store.findRun,
          list: Effect.map(store.runs, (registry) => registry.runs),
          insert: (record) => store.putRuns([record]),
          update: (runId, f) =>
            Effect.flatMap(nowIso, (now) => store.updateRun(runId, (run) => nextRunRecord(run, f, now))),
        },
        sessions: {
          get: (sessionId) =>
            Effect.map(store.sessions, (r) => r.sessions.find((s) => s.sessionId === sessionId) ?? null),
          list: Effect.map(store.sessions, (registry) => registry.sessions),
          insert: (record) => store.putSessions([record]),
          update: (sessionId, f) =>
            Effect.flatMap(nowIso, (now) =>
              store.updateSession(sessionId, (session) => ({ ...f(session), updatedAt: now })),
            ),
        },
      })
    }),
  )
}
