/**
 * One run while it is live (queued or running): its runMachine actor, whose turn actors are Effect
 * programs run through the bridge (so leaving a state interrupts the program it invoked), the result
 * folded from its turn's events, and the work that keeps its record, session and events current.
 *
 * That work goes through one queue per run, drained by one fiber, in the order the transitions
 * happened; the record itself changes only through the RunStore's ordered update, and a finished
 * record never changes again. The end of the run is `endOfRun`, the same function recovery uses.
 * `done` completes once the end is recorded and announced.
 */
import type * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Queue from "effect/Queue"
import * as Scope from "effect/Scope"
import { type Actor, createActor } from "xstate"
import type { AppServerEvent } from "../../domain/appServer/events.ts"
import type { EventInput } from "../../domain/event.ts"
import type { SessionId } from "../../domain/ids.ts"
import type { RunFailure, RunRecord } from "../../domain/run.ts"
import { endOfRun } from "../../domain/runEnd.ts"
import { RunResultBuilder } from "../../domain/runResult.ts"
import type { RunMachineEvent } from "../../machines/runMachine.ts"
import { stateName } from "../../machines/stateName.ts"
import type { Approvals } from "../approvals/Approvals.ts"
import type { AppServerClient } from "../appServer/AppServerClient.ts"
import type { EventLog } from "../events/EventLog.ts"
import type { ExecAdapter, ExecTurn } from "../exec/ExecAdapter.ts"
import { nowIso } from "../now.ts"
import type { Bridge } from "../runtime.ts"
import type { Sessions } from "../sessions/Sessions.ts"
import type { RunStore } from "../store/RunStore.ts"
import type { Supervisor } from "../supervisor/Supervisor.ts"
import type { ProvidedRunMachine } from "./runMachineActors.ts"
import { recordedRunning } from "./sharedRuns.ts"
import { startRunTurn } from "./startRunTurn.ts"
import { budgetOf, type TokenBudget } from "./tokenBudget.ts"
import { machineEventOf, proposedDiffOf, type RunIds, recordedEventOf, turnIdOf } from "./turnEvents.ts"
import { readTurnOutcome } from "./turnRead.ts"

export interface LiveRunDeps {
  readonly bridge: Bridge<never>
  readonly runStore: RunStore["Service"]
  readonly events: EventLog["Service"]
  readonly sessions: Sessions["Service"]
  readonly approvals: Approvals["Service"]
  readonly supervisor: Supervisor["Service"]
  /** Exec mode's turns; null in app-server mode. */
  readonly exec: ExecAdapter["Service"] | null
  /** Thread → the live run whose turn is on it: where Runs sends each thread's events. */
  readonly threads: Map<string, LiveRun>
  /** Run id → live run, while it lives: how the shared machine's actors find their run. */
  readonly byId: Map<string, LiveRun>
  /** The runMachine, provided once for every run (`provideRunMachine`). */
  readonly machine: ProvidedRunMachine
}

type RunActor = Actor<ProvidedRunMachine>

export class LiveRun {
  /** The record as last written. */
  record: RunRecord
  threadId: string | null
  client: AppServerClient | null = null
  /** Completes once the run's end is recorded and announced. */
  readonly done: Deferred.Deferred<RunRecord>
  private readonly actor: RunActor
  private readonly deps: LiveRunDeps
  private readonly work: Queue.Queue<Effect.Effect<void>, Cause.Done>
  /** What lives as long as the run's turn: its approval route. */
  private readonly scope: Scope.Closeable
  private readonly result = new RunResultBuilder()
  /** File-change diffs by item id, for approvals that ask about them. */
  private readonly proposedDiffs = new Map<string, string>()
  private machineState = ""
  /** Exec mode: the process running this run's turn. */
  private execTurn: ExecTurn | null = null

  /** A live run for a queued record; its work is done by a fiber of the bridge. */
  static make(record: RunRecord, deps: LiveRunDeps): Effect.Effect<LiveRun> {
    return Effect.gen(function* () {
      const work = yield* Queue.unbounded<Effect.Effect<void>, Cause.Done>()
      const scope = yield* Scope.make()
      const done = yield* Deferred.make<RunRecord>()
      return new LiveRun(record, deps, work, scope, done)
    })
  }

  private constructor(
    record: RunRecord,
    deps: LiveRunDeps,
    work: Queue.Queue<Effect.Effect<void>, Cause.Done>,
    scope: Scope.Closeable,
    done: Deferred.Deferred<RunRecord>,
  ) {
    this.record = record
    this.threadId = record.threadId
    this.deps = deps
    this.work = work
    this.scope = scope
    this.done = done
    const { bridge } = deps
    // One fiber does the run's work, in order, until the end is recorded.
    bridge.fork(
      Queue.take(work).pipe(
        Effect.flatten,
        Effect.forever,
        Effect.catchTag("Done", () => Effect.void),
      ),
    )
    // Known by id before its machine starts: the machine's turn actors find it that way.
    deps.byId.set(record.runId, this)
    this.actor = createActor(deps.machine, {
      clock: bridge.clock,
      input: { runId: record.runId, prompt: record.prompt },
    })
    this.actor.subscribe((snapshot) => this.onSnapshot(snapshot))
    this.actor.start()
  }

  get runId() {
    return this.record.runId
  }

  get sessionId(): SessionId {
    return this.record.sessionId as SessionId
  }

  get turnId(): string | null {
    return this.actor.getSnapshot().context.turnId
  }

  get ids(): RunIds {
    return { runId: this.runId, sessionId: this.sessionId, threadId: this.threadId, turnId: this.turnId }
  }

  get isQueued(): boolean {
    return this.actor.getSnapshot().value === "queued"
  }

  /** Running on a turn of an app-server connection (not queued, not done). */
  get isRunning(): boolean {
    const snapshot = this.actor.getSnapshot()
    return snapshot.status === "active" && snapshot.value !== "queued"
  }

  send(event: RunMachineEvent): void {
    this.actor.send(event)
  }

  /** An operation run waiting to learn its turn from the thread's next `turn/started`. */
  private turnAnnounced: Deferred.Deferred<string> | null = null
  private budget: TokenBudget | null = null
  /** An event of this run's thread. */
  handle(event: AppServerEvent): void {
    if (event.type === "turn.started" && this.turnAnnounced !== null) {
      Deferred.doneUnsafe(this.turnAnnounced, Effect.succeed(event.turn.id))
      this.turnAnnounced = null
    }
    const turnId = turnIdOf(event)
    const own = this.turnId
    // Late events of an earlier turn of the same thread are not this run's.
    if (turnId !== null && own !== null && turnId !== own) return
    this.result.add(event)
    const overBudget = this.budget?.exceededBy(event) ?? null
    if (overBudget !== null) this.send({ type: "INTERRUPT", reason: overBudget })
    if (event.type === "item.started") {
      const diff = proposedDiffOf(event.item)
      if (diff !== null) this.proposedDiffs.set(event.item.id, diff)
    }
    const recorded = recordedEventOf(event, this.ids)
    if (recorded !== null) this.publish(recorded)
    const machineEvent = machineEventOf(event)
    if (machineEvent.type === "ACTIVITY") {
      this.activityOwed = true
      return
    }
    this.settleActivity()
    this.send(machineEvent)
  }

  /**
   * A burst of events (a chunk of deltas) owes the machine one ACTIVITY, sent once the burst is
   * handled: the watchdog is re-armed at the same instant either way, but once instead of per delta.
   * Anything else the machine is told first settles what is owed, so the order stays as it came.
   */
  private activityOwed = false

  settleActivity(): void {
    if (!this.activityOwed) return
    this.activityOwed = false
    this.send({ type: "ACTIVITY" })
  }

  /** Change the prompt of a queued run. */
  editPrompt(prompt: string): Effect.Effect<void> {
    this.send({ type: "STEER", text: prompt })
    return this.save((r) => ({ ...r, prompt }))
  }

  /** Resolves once the work queued so far is done. */
  get settled(): Effect.Effect<void> {
    return Effect.gen({ self: this }, function* () {
      const reached = yield* Deferred.make<void>()
      if (!Queue.offerUnsafe(this.work, Deferred.succeed(reached, undefined).pipe(Effect.asVoid))) return
      yield* Deferred.await(reached)
    })
  }

  private enqueue(effect: Effect.Effect<void>): void {
    Queue.offerUnsafe(this.work, effect)
  }

  /** For the run machine's actors (`runMachineActors.ts`). */
  startTurn(prompt: string) {
    return Effect.gen({ self: this }, function* () {
      const { sessions, approvals, supervisor } = this.deps
      const client = yield* supervisor.client
      this.client = client
      const threadId = yield* sessions.threadFor(this.sessionId, client)
      this.adoptThread(threadId)
      const session = yield* sessions.get(this.sessionId)
      this.budget = budgetOf(this.record, session)
      yield* Scope.provide(this.scope)(
        approvals.route(threadId, {
          runId: this.runId,
          sessionId: this.sessionId,
          mode: this.record.approvals ?? session.approvals,
          turnId: () => this.turnId,
          diffOf: (itemId) => this.proposedDiffs.get(itemId) ?? null,
        }),
      )
      // Recorded as running on its thread before the turn starts: after a crash from here on the run is
      // never started again (codex may have begun it), only reconciled.
      const startedAt = yield* nowIso
      yield* this.save((r) => ({ ...r, status: "running", startedAt: r.startedAt ?? startedAt, threadId }))
      yield* recordedRunning(this.record)
      const announced = Deferred.makeUnsafe<string>()
      if (this.record.operation !== undefined) this.turnAnnounced = announced
      const turnId = yield* startRunTurn(client, threadId, { ...this.record, prompt }, session, announced)
      return { turnId }
    })
  }

  /** For the run machine's actors: exec mode's turn is one `codex exec` process (thread known once it says). */
  startExecTurn(exec: ExecAdapter["Service"], prompt: string) {
    return Effect.gen({ self: this }, function* () {
      const { sessions } = this.deps
      const session = yield* sessions.get(this.sessionId)
      const resumeThreadId = session.threadId
      if (resumeThreadId !== null) this.adoptThread(resumeThreadId)
      // Recorded as running before the process starts, as in app-server mode: never started twice.
      const startedAt = yield* nowIso
      yield* this.save((r) => ({
        ...r,
        status: "running",
        startedAt: r.startedAt ?? startedAt,
        threadId: resumeThreadId,
      }))
      yield* recordedRunning(this.record)
      const turnId = `exec-${this.runId}`
      const options = this.record.options
      const effort = options?.reasoningEffort ?? session.reasoningEffort
      this.execTurn = yield* exec.startTurn(
        {
          prompt,
          turnId,
          cwd: this.record.cwd ?? session.cwd,
          sandbox: options?.sandbox ?? session.sandbox,
          model: options?.model ?? session.model,
          config: effort === null ? [] : [["model_reasoning_effort", JSON.stringify(effort)]],
          // Exec takes local images only; the API refuses URLs in exec mode.
          images: (options?.images ?? []).flatMap((image) => ("path" in image ? [image.path] : [])),
          outputSchema: options?.outputSchema ?? null,
          resumeThreadId,
        },
        {
          onEvent: (event) => {
            if (event.type === "thread.started") {
              const threadId = event.thread.id
              if (threadId !== this.threadId) {
                this.adoptThread(threadId)
                this.enqueue(this.save((r) => ({ ...r, threadId })))
              }
              this.enqueue(sessions.execThreadStarted(this.sessionId, threadId))
            }
            this.handle(event)
            this.settleActivity()
          },
          onLost: (reason) => this.send({ type: "CHILD.EXITED", reason }),
        },
      )
      return { turnId }
    })
  }

  /** For the run machine's actors (`runMachineActors.ts`). */
  interruptTurn(turnId: string | null): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.execTurn !== null) return Effect.sync(() => this.execTurn?.interrupt())
      const client = this.client
      if (client === null || this.threadId === null || turnId === null) return Effect.void
      return Effect.ignore(client.turnInterrupt({ threadId: this.threadId, turnId }))
    })
  }

  /** For the run machine's actors (`runMachineActors.ts`). */
  readTurn(turnId: string | null) {
    return Effect.suspend(() => readTurnOutcome(this.client, this.threadId, turnId))
  }

  private adoptThread(threadId: string): void {
    this.threadId = threadId
    this.deps.threads.set(threadId, this)
  }

  /**
   * Events waiting in the work queue as one item: a burst of deltas is one step of the run's work
   * fiber, not one per delta. Events stay in order among themselves; a record save queued while a
   * batch waits may land after events that came later, which no reader depends on (a run's end event
   * is published in the same step as its end is saved).
   */
  private unpublished: Array<EventInput> | null = null

  private publish(input: EventInput): void {
    if (this.unpublished !== null) {
      this.unpublished.push(input)
      return
    }
    this.unpublished = [input]
    this.enqueue(
      Effect.suspend(() => {
        const batch = this.unpublished ?? []
        this.unpublished = null
        return this.deps.events.publishAll(batch)
      }),
    )
  }

  /** One ordered change of the record; a failed write is logged (the run goes on). */
  private save(f: (record: RunRecord) => RunRecord): Effect.Effect<void> {
    return this.deps.runStore.runs.update(this.runId, f).pipe(
      Effect.tap((after) =>
        Effect.sync(() => {
          if (after !== null) this.record = after
        }),
      ),
      Effect.asVoid,
      Effect.catch((error) => Effect.logError(`run ${this.runId} not saved: ${error.message}`)),
    )
  }

  private onSnapshot(snapshot: ReturnType<RunActor["getSnapshot"]>): void {
    const state = stateName(snapshot.value)
    if (state === this.machineState) return
    const previous = this.machineState
    this.machineState = state
    if (previous === "") return
    const { context } = snapshot
    if (snapshot.status === "done") {
      this.finish(snapshot.value === "completed" ? null : context.failure, context.turnStatus)
      return
    }
    if (previous === "queued") {
      this.publish({ type: "run.running", message: `run ${this.runId} started`, detail: { ...this.ids } })
    }
    if (context.turnId !== null && this.record.turnId !== context.turnId) {
      const turnId = context.turnId
      this.enqueue(this.save((r) => ({ ...r, turnId })))
      this.enqueue(this.deps.sessions.turnStarted(this.sessionId, turnId))
    }
    this.publish({ type: "run.state", message: `run ${this.runId} ${state}`, detail: { ...this.ids, state } })
  }

  private finish(failure: RunFailure | null, turnStatus: string | null): void {
    const built = this.result.result()
    const result = {
      ...built,
      threadId: built.threadId ?? this.threadId,
      turnId: built.turnId ?? this.turnId,
      turnStatus: turnStatus ?? built.turnStatus,
    }
    const { sessions, approvals, events } = this.deps
    this.enqueue(
      Effect.gen({ self: this }, function* () {
        const end = endOfRun({ run: this.record, result, failure, finishedAt: yield* nowIso })
        // The session first: whoever sees the run finished also sees it as its session's last turn.
        yield* sessions.turnEnded(this.sessionId, end.sessionTurn.turnId, end.sessionTurn.status)
        yield* this.save(end.update)
        yield* approvals.cancelRun(this.runId, "the run ended")
        yield* Scope.close(this.scope, Exit.void)
        yield* events.publish(end.event)
        if (this.threadId !== null && this.deps.threads.get(this.threadId) === this)
          this.deps.threads.delete(this.threadId)
        this.deps.byId.delete(this.runId)
        yield* Deferred.succeed(this.done, this.record)
        yield* Queue.end(this.work)
      }),
    )
  }
}
