/**
 * Runs: accepting runs, scheduling them and the live runs. Owns accepting a run (durable before it
 * is acknowledged), scheduling (through the RunQueue: one turn per session at a time, FIFO within a
 * session, a global limit, sessions served in turn), routing each thread's events to the run on it,
 * interrupt and steer, failing running runs when the child exits under them, and recovery after a
 * daemon crash. Does not own threads (Sessions), approvals (Approvals), the child (Supervisor) or
 * where records are kept (RunStore).
 *
 * Every subscription is a fiber of this layer: the child's changes (a new client is watched, then
 * the queue is pumped), each client's events (routed to the run on their thread, until the stream
 * ends with the transport's close), the approval signals (forwarded to the run they concern) and
 * the sweep that fails any run left `running` with no live turn behind it.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { CodexdConfig } from "../../config.ts"
import type { AppServerEvent } from "../../domain/appServer/events.ts"
import { textInput } from "../../domain/appServer/protocol.ts"
import {
  type InvalidOptionError,
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
import { makeBridge } from "../runtime.ts"
import { Sessions } from "../sessions/Sessions.ts"
import { RunStore } from "../store/RunStore.ts"
import type { StoreError } from "../store/Store.ts"
import { Store } from "../store/Store.ts"
import { Supervisor } from "../supervisor/Supervisor.ts"
import { LiveRun } from "./liveRun.ts"
import { sweepOrphans } from "./orphanSweep.ts"
import { type QueuedRun, RunQueue } from "./RunQueue.ts"
import { recoverRuns } from "./recovery.ts"
import { provideRunMachine } from "./runMachineActors.ts"
import { checkRunOptions } from "./runOptionsCheck.ts"
import { endQueued } from "./sharedRuns.ts"
import { machineEventOfApproval, threadIdOf } from "./turnEvents.ts"
import { failedOnUsageLimit, makeUsageHold } from "./usageHold.ts"

export interface RunsOptions {
  /** How long an idle thread may go without `turn/completed` before `thread/read` decides. */
  readonly idleGraceMs: number
  /** How long an interrupt may take before the run is failed anyway. */
  readonly interruptGraceMs: number
  /** How often runs left `running` with nothing behind them are looked for. */
  readonly orphanSweepMs: number
}

export const defaultRunsOptions: RunsOptions = {
  idleGraceMs: 2_000,
  interruptGraceMs: 10_000,
  orphanSweepMs: 5_000,
}

export class Runs extends Context.Service<
  Runs,
  {
    /** Accept a run; resolves once it is durable, queued. */
    readonly submit: (
      spec: RunSpec,
    ) => Effect.Effect<RunRecord, InvalidOptionError | SessionNotFoundError | SessionClosedError | StoreError>
    readonly get: (runId: RunId) => Effect.Effect<RunRecord, RunNotFoundError | StoreError>
    readonly list: Effect.Effect<ReadonlyArray<RunRecord>, StoreError>
    readonly interrupt: (
      runId: RunId,
    ) => Effect.Effect<RunRecord, RunNotFoundError | RunStateError | StoreError>
    /** Steer a running run's turn, or edit a queued run's prompt. */
    readonly steer: (
      runId: RunId,
      text: string,
    ) => Effect.Effect<RunRecord, RunNotFoundError | RunStateError | AppServerError | StoreError>
    /** Resolves once no run is live (tests, shutdown). */
    readonly idle: Effect.Effect<void>
  }
>()("codexd/Runs") {
  static readonly layer = (
    options: Partial<RunsOptions> = {},
  ): Layer.Layer<
    Runs,
    StoreError,
    CodexdConfig | Store | RunStore | RunQueue | EventLog | Sessions | Approvals | Supervisor | ExecAdapter
  > => Layer.effect(Runs, makeRuns({ ...defaultRunsOptions, ...options }))
}

const makeRuns = (options: RunsOptions) =>
  Effect.gen(function* () {
    const config = yield* CodexdConfig
    const runStore = yield* RunStore
    const store = yield* Store
    const queue = yield* RunQueue
    const events = yield* EventLog
    const sessions = yield* Sessions
    const approvals = yield* Approvals
    const supervisor = yield* Supervisor
    const execAdapter = yield* ExecAdapter
    const bridge = yield* makeBridge<never>()
    const execMode = config.server.mode === "exec"

    const usageHold = yield* makeUsageHold(
      store,
      events,
      Effect.suspend(() => pump),
    )
    const live = new Map<RunId, LiveRun>()
    const liveCount = yield* SubscriptionRef.make(0)
    const threads = new Map<string, LiveRun>()
    const byId = new Map<string, LiveRun>()
    const exec = execMode ? execAdapter : null
    const deps = {
      bridge,
      runStore,
      events,
      sessions,
      approvals,
      supervisor,
      exec,
      threads,
      byId,
      machine: provideRunMachine(
        bridge,
        exec,
        {
          silenceTimeoutMs: config.runs.runSilenceTimeoutMs,
          idleGraceMs: options.idleGraceMs,
          interruptGraceMs: options.interruptGraceMs,
        },
        byId,
      ),
    }

    /** Exec mode starts a process per turn and needs nothing else; app-server mode needs a live client. */
    const canStart = Effect.map(
      supervisor.current,
      (child) => execMode || (child.client !== null && !child.client.isClosed()),
    )

    const pump: Effect.Effect<void> = Effect.gen(function* () {
      // Runs a previous daemon left running are settled first; none starts while the usage limit holds.
      if (recovery.reconciling.size > 0 || (yield* usageHold.held) || !(yield* canStart)) return
      for (const claimed of yield* queue.claim(config.runs.maxConcurrentRuns)) {
        // A shared queue hands out runs another node accepted: they become live here.
        const run = live.get(claimed.runId) ?? (yield* adoptClaimed(claimed))
        run?.send({ type: "SCHEDULED" })
      }
    })

    const adoptClaimed = (claimed: QueuedRun) =>
      Effect.gen(function* () {
        const record = yield* Effect.orElseSucceed(runStore.runs.get(claimed.runId), () => null)
        if (record?.status === "queued") return yield* track(record)
        // Ended meanwhile (interrupted while queued): its session's slot is free again.
        yield* queue.release(claimed)
        return undefined
      })

    /** A live run for a queued record; once its end is recorded, its slot is freed and the queue pumped. */
    const admit = (record: RunRecord, first = false) =>
      Effect.tap(track(record), (run) => queue.enqueue({ runId: run.runId, sessionId: run.sessionId }, first))

    const track = (record: RunRecord) =>
      Effect.gen(function* () {
        const run = yield* LiveRun.make(record, deps)
        live.set(record.runId, run)
        yield* SubscriptionRef.set(liveCount, live.size)
        bridge.fork(
          Effect.gen(function* () {
            const ended = yield* Deferred.await(run.done)
            if (failedOnUsageLimit(ended)) yield* usageHold.hold(ended)
            live.delete(run.runId)
            yield* SubscriptionRef.set(liveCount, live.size)
            if (!(yield* queue.remove(run.runId)))
              yield* queue.release({ runId: run.runId, sessionId: run.sessionId })
            yield* pump
          }),
        )
        return run
      })

    /** The events of a thread go straight to its run; the few others need effects of their own. */
    const routeBatch = (client: AppServerClient) => (batch: ReadonlyArray<AppServerEvent>) => {
      const special: Array<AppServerEvent> = []
      const touched = new Set<LiveRun>()
      for (const event of batch) {
        if (
          event.type === "serverRequest.resolved" ||
          event.type === "malformed" ||
          event.type === "transport.closed"
        )
          special.push(event)
        else {
          const threadId = threadIdOf(event)
          const run = threadId === null ? undefined : threads.get(threadId)
          if (run !== undefined) {
            run.handle(event)
            touched.add(run)
          }
        }
      }
      // Once per run per burst, before anything below can tell a machine something else.
      for (const run of touched) run.settleActivity()
      return special.length === 0 ? Effect.void : Effect.forEach(special, route(client), { discard: true })
    }

    const route = (client: AppServerClient) => (event: AppServerEvent) =>
      Effect.gen(function* () {
        switch (event.type) {
          case "serverRequest.resolved":
            yield* approvals.resolved(event.threadId, event.requestId)
            break
          case "malformed":
            yield* events.publish({
              level: "warn",
              type: "child.malformed",
              message: `app-server sent a bad line: ${event.reason}`,
              detail: { reason: event.reason, excerpt: event.excerpt, length: event.length },
            })
            return
          case "transport.closed": {
            const reason = `the app-server exited under the turn (${event.reason})`
            for (const run of live.values())
              if (run.client === client) run.send({ type: "CHILD.EXITED", reason })
            yield* approvals.cancelAll("the app-server exited")
            return
          }
        }
        const threadId = threadIdOf(event)
        const run = threadId === null ? undefined : threads.get(threadId)
        run?.handle(event)
        run?.settleActivity()
      })

    /** Follow a new client's events (subscribed before anything can start on it), then pump. */
    const watched = new WeakSet<AppServerClient>()
    const watch = (client: AppServerClient) =>
      Effect.gen(function* () {
        if (watched.has(client)) return
        watched.add(client)
        const subscribed = yield* Deferred.make<void>()
        bridge.fork(
          Effect.scoped(
            Effect.gen(function* () {
              const stream = yield* client.subscribe
              yield* Deferred.succeed(subscribed, undefined)
              // By batch: a burst of deltas costs one step per batch, not a fiber step per delta.
              yield* Stream.runForEachArray(stream, routeBatch(client))
            }),
          ),
        )
        yield* Deferred.await(subscribed)
      })

    const shared = queue.shared
    // On a shared queue a node recovers only what it held; its queued runs are in the queue already.
    const recovery = yield* recoverRuns({
      runStore,
      events,
      sessions,
      supervisor,
      execMode,
      // A run codex never started goes first in its session: it came before the session's others.
      requeue: (record) => Effect.asVoid(admit(record, true)),
      reconciled: Effect.suspend(() => pump),
      ...(shared === null ? {} : { held: yield* shared.claimedHere }),
    })
    if (shared === null) for (const record of recovery.queued) yield* admit(record)
    else bridge.fork(Stream.runForEach(shared.wakeups, () => pump))

    bridge.fork(
      Stream.runForEach(supervisor.changes, (child) =>
        Effect.gen(function* () {
          if (child.client !== null) yield* watch(child.client)
          yield* pump
        }),
      ),
    )

    const signalled = yield* approvals.signals
    bridge.fork(
      Stream.runForEach(signalled, (signal) =>
        Effect.sync(() => live.get(signal.runId)?.send(machineEventOfApproval(signal))),
      ),
    )

    const sweep = sweepOrphans({ live, runStore, queue, sessions, events, execMode, recovery })
    bridge.fork(Effect.repeat(sweep, Schedule.spaced(options.orphanSweepMs)))

    const find = (runId: RunId) =>
      Effect.flatMap(runStore.runs.get(runId), (run) =>
        run === null ? Effect.fail(new RunNotFoundError({ runId })) : Effect.succeed(run),
      )

    const liveOrState = (runId: RunId, action: string) =>
      Effect.gen(function* () {
        const run = live.get(runId)
        if (run !== undefined) return run
        const record = yield* find(runId)
        return yield* Effect.fail(new RunStateError({ runId, status: record.status, action }))
      })

    // What the live runs were doing when the daemon stops is written before the store closes.
    yield* Effect.addFinalizer(() =>
      Effect.forEach([...live.values()], (run) => run.settled, { discard: true }).pipe(
        Effect.timeoutOrElse({ duration: 10_000, orElse: () => Effect.void }),
      ),
    )

    return Runs.of({
      submit: (spec) =>
        Effect.gen(function* () {
          yield* checkRunOptions(spec.options ?? {}, config.server.mode)
          const session =
            spec.sessionId == null
              ? yield* sessions.record({ purpose: "worker", cwd: spec.cwd ?? null })
              : yield* sessions.get(spec.sessionId)
          if (session.status === "closed")
            return yield* Effect.fail(new SessionClosedError({ sessionId: session.sessionId }))
          const now = new Date(yield* Clock.currentTimeMillis).toISOString()
          const record = newRunRecord(spec, session, config.server.mode, now)
          yield* runStore.runs.insert(record)
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
          if (queue.shared === null) {
            yield* admit(record)
            yield* pump
            // Shared: announced to every node (this one too), whichever may take it claims it.
          } else yield* queue.enqueue({ runId: record.runId, sessionId: session.sessionId })
          return record
        }),
      get: find,
      list: runStore.runs.list,
      interrupt: (runId) =>
        Effect.gen(function* () {
          if (!live.has(runId) && (yield* queue.remove(runId)))
            return yield* endQueued(runStore, events, runId)
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
          const queued = run.isQueued
          if (queued) {
            yield* run.editPrompt(text)
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
            message: `run ${runId} ${queued ? "prompt edited" : "steered"}: ${text}`,
            detail: { ...run.ids, text, queued },
          })
          return run.record
        }),
      idle: SubscriptionRef.changes(liveCount).pipe(
        Stream.filter((n) => n === 0),
        Stream.runHead,
        Effect.asVoid,
      ),
    })
  })
