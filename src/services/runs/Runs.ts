/**
 * Runs: the run registry, the scheduler and the live runs. Owns accepting a run (durable before it
 * is acknowledged), scheduling (one turn per session at a time, FIFO within a session, a global
 * limit, sessions served in turn), routing each thread's events to the run on it, interrupt and steer,
 * failing running runs when the child exits under them, and recovery after a daemon crash.
 * Does not own threads (Sessions), approvals (Approvals) or the child (Supervisor).
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { CodexdConfig } from "../../config.ts"
import { textInput } from "../../domain/appServer/protocol.ts"
import {
  RunNotFoundError,
  RunStateError,
  SessionClosedError,
  type SessionNotFoundError,
} from "../../domain/errors.ts"
import type { RunId } from "../../domain/ids.ts"
import { newRunRecord, type RunRecord, type RunSpec } from "../../domain/run.ts"
import { Approvals } from "../approvals/Approvals.ts"
import type { AppServerClient } from "../appServer/AppServerClient.ts"
import type { AppServerError } from "../appServer/appServerErrors.ts"
import { EventLog } from "../events/EventLog.ts"
import { ExecAdapter } from "../exec/ExecAdapter.ts"
import { Sessions } from "../sessions/Sessions.ts"
import { Store, type StoreError } from "../store/Store.ts"
import { Supervisor } from "../supervisor/Supervisor.ts"
import { FairQueue } from "./fairQueue.ts"
import { LiveRun } from "./liveRun.ts"
import { recoverRuns } from "./recovery.ts"
import { threadIdOf } from "./turnEvents.ts"

export interface RunsOptions {
  /** How long an idle thread may go without `turn/completed` before `thread/read` decides. */
  readonly idleGraceMs: number
  /** How long an interrupt may take before the run is failed anyway. */
  readonly interruptGraceMs: number
}

export const defaultRunsOptions: RunsOptions = { idleGraceMs: 2_000, interruptGraceMs: 10_000 }

export class Runs extends Context.Service<
  Runs,
  {
    /** Accept a run; resolves once it is durable, queued. */
    readonly submit: (
      spec: RunSpec,
    ) => Effect.Effect<RunRecord, SessionNotFoundError | SessionClosedError | StoreError>
    readonly get: (runId: RunId) => Effect.Effect<RunRecord, RunNotFoundError | StoreError>
    readonly list: Effect.Effect<ReadonlyArray<RunRecord>>
    readonly interrupt: (
      runId: RunId,
    ) => Effect.Effect<RunRecord, RunNotFoundError | RunStateError | StoreError>
    /** Steer a running run's turn, or edit a queued run's prompt. */
    readonly steer: (
      runId: RunId,
      text: string,
    ) => Effect.Effect<RunRecord, RunNotFoundError | RunStateError | AppServerError | StoreError>
    /** Resolves once every live run has finished (tests, shutdown). */
    readonly idle: Effect.Effect<void>
  }
>()("codexd/Runs") {
  static readonly layer = (
    options: RunsOptions = defaultRunsOptions,
  ): Layer.Layer<
    Runs,
    StoreError,
    CodexdConfig | Store | EventLog | Sessions | Approvals | Supervisor | ExecAdapter
  > => Layer.effect(Runs, makeRuns(options))
}

const makeRuns = (options: RunsOptions) =>
  Effect.gen(function* () {
    const config = yield* CodexdConfig
    const store = yield* Store
    const events = yield* EventLog
    const sessions = yield* Sessions
    const approvals = yield* Approvals
    const supervisor = yield* Supervisor
    const execAdapter = yield* ExecAdapter
    const execMode = config.server.mode === "exec"
    const services = yield* Effect.context<never>()
    const runEffect = <A, E>(effect: Effect.Effect<A, E>): Promise<A> =>
      Effect.runPromiseWith(services)(effect)

    const live = new Map<RunId, LiveRun>()
    const onThread = new Map<string, LiveRun>()
    const queue = new FairQueue<string, RunId>()
    /** Runs taken from the queue and not yet finished: their sessions hold a scheduler slot. */
    const started = new Set<RunId>()
    const idleWaiters = new Set<() => void>()

    /** Exec mode starts a process per turn and needs nothing else; app-server mode needs a live client. */
    const canStart = () => {
      if (execMode) return true
      const client = supervisor.client()
      return client !== null && !client.isClosed()
    }

    const pump = () => {
      if (!canStart()) return
      for (const { run } of queue.take(config.runs.maxConcurrentRuns)) {
        started.add(run)
        live.get(run)?.send({ type: "SCHEDULED" })
      }
    }

    const deps = {
      store,
      events,
      sessions,
      approvals,
      currentClient: () => supervisor.client(),
      exec: execMode ? execAdapter : null,
      silenceTimeoutMs: config.runs.runSilenceTimeoutMs,
      idleGraceMs: options.idleGraceMs,
      interruptGraceMs: options.interruptGraceMs,
      runEffect,
      onThread: (run: LiveRun, threadId: string) => {
        onThread.set(threadId, run)
      },
      onFinished: (run: LiveRun) => {
        live.delete(run.runId)
        if (run.threadId !== null && onThread.get(run.threadId) === run) onThread.delete(run.threadId)
        if (started.delete(run.runId)) queue.release(run.sessionId)
        else queue.remove(run.runId)
        if (live.size === 0) for (const wake of idleWaiters) wake()
        pump()
      },
    }

    const admit = (record: RunRecord) => {
      const run = new LiveRun(record, deps)
      live.set(record.runId, run)
      queue.enqueue(run.sessionId, run.runId)
      return run
    }

    /** Every event of a connection goes to the run whose turn is on its thread. */
    const watched = new WeakSet<AppServerClient>()
    const watch = (client: AppServerClient) => {
      if (watched.has(client)) return
      watched.add(client)
      client.onEvent((event) => {
        if (event.type === "serverRequest.resolved") {
          void runEffect(approvals.resolved(event.threadId, event.requestId))
        } else if (event.type === "malformed") {
          void runEffect(
            events.publish({
              level: "warn",
              type: "child.malformed",
              message: `app-server sent a bad line: ${event.reason}`,
              detail: { reason: event.reason, excerpt: event.excerpt, length: event.length },
            }),
          )
          return
        }
        const threadId = threadIdOf(event)
        if (threadId !== null) onThread.get(threadId)?.handle(event)
      })
      void client.closed.then((closed) => {
        const reason = `the app-server exited under the turn (${closed.message})`
        for (const run of live.values()) if (run.client === client) run.send({ type: "CHILD.EXITED", reason })
        void runEffect(approvals.cancelAll("the app-server exited"))
      })
    }

    const onChild = () => {
      const client = supervisor.client()
      if (client !== null) {
        watch(client)
        pump()
      }
    }
    supervisor.onChange(onChild)

    const recovery = yield* recoverRuns({ store, events, sessions, supervisor, runEffect, execMode })
    for (const record of recovery.queued) admit(record)
    onChild()

    const find = (runId: RunId) =>
      Effect.flatMap(store.findRun(runId), (run) =>
        run === null ? Effect.fail(new RunNotFoundError({ runId })) : Effect.succeed(run),
      )

    const liveOrState = (runId: RunId, action: string) =>
      Effect.gen(function* () {
        const run = live.get(runId)
        if (run !== undefined) return run
        const record = yield* find(runId)
        return yield* Effect.fail(new RunStateError({ runId, status: record.status, action }))
      })

    yield* Effect.addFinalizer(() =>
      Effect.promise(() => Promise.allSettled([...live.values()].map((run) => run.settled()))),
    )

    return Runs.of({
      submit: (spec) =>
        Effect.gen(function* () {
          const session =
            spec.sessionId == null
              ? yield* sessions.record({ purpose: "worker", cwd: spec.cwd ?? null })
              : yield* sessions.get(spec.sessionId)
          if (session.status === "closed")
            return yield* Effect.fail(new SessionClosedError({ sessionId: session.sessionId }))
          const record = newRunRecord(spec, session, config.server.mode, new Date().toISOString())
          yield* store.updateRuns((registry) => ({ ...registry, runs: [...registry.runs, record] }))
          yield* events.publish({
            type: "run.queued",
            message: `run ${record.runId} queued for session ${session.sessionId}`,
            detail: {
              runId: record.runId,
              sessionId: session.sessionId,
              threadId: session.threadId,
              turnId: null,
            },
          })
          admit(record)
          pump()
          return record
        }),
      get: find,
      list: Effect.map(store.runs, (registry) => registry.runs),
      interrupt: (runId) =>
        Effect.gen(function* () {
          const run = yield* liveOrState(runId, "interrupt")
          run.send({ type: "INTERRUPT" })
          yield* events.publish({
            type: "run.interrupt.requested",
            message: `interrupt of run ${runId} requested`,
            detail: { ...run.ids },
          })
          return run.record
        }),
      steer: (runId, text) =>
        Effect.gen(function* () {
          const run = yield* liveOrState(runId, "steer")
          if (run.isQueued) {
            yield* Effect.promise(() => run.editPrompt(text))
          } else {
            const turnId = run.turnId
            // A `codex exec` process reads no input once started: its turn cannot be steered.
            if (execMode)
              return yield* Effect.fail(
                new RunStateError({ runId, status: "running in exec mode", action: "steer" }),
              )
            if (run.client === null || run.threadId === null || turnId === null)
              return yield* Effect.fail(new RunStateError({ runId, status: "starting", action: "steer" }))
            yield* run.client.turnSteer({
              threadId: run.threadId,
              input: [textInput(text)],
              expectedTurnId: turnId,
            })
          }
          yield* events.publish({
            type: "run.steered",
            message: `run ${runId} ${run.isQueued ? "prompt edited" : "steered"}: ${text}`,
            detail: { ...run.ids, text, queued: run.isQueued },
          })
          return run.record
        }),
      idle: Effect.callback<void>((resume) => {
        if (live.size === 0) {
          resume(Effect.void)
          return
        }
        const wake = () => {
          idleWaiters.delete(wake)
          resume(Effect.void)
        }
        idleWaiters.add(wake)
        return Effect.sync(() => idleWaiters.delete(wake))
      }),
    })
  })
