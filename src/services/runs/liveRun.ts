/**
 * One run while it is live (queued or running): its runMachine actor, the turn actors it is given,
 * the result folded from its turn's events, and the writes that keep its record current. The Runs
 * service creates it, routes its thread's events to it and hears once when it has finished.
 *
 * Record writes go through one chain per run, in the order the transitions happened, so the record
 * read after `run.completed` is the final one.
 */
import * as Effect from "effect/Effect"
import { type Actor, createActor, fromPromise } from "xstate"
import type { AppServerEvent } from "../../domain/appServer/events.ts"
import { type SandboxMode, textInput } from "../../domain/appServer/protocol.ts"
import type { EventInput } from "../../domain/event.ts"
import type { RunRecord } from "../../domain/run.ts"
import { RunResultBuilder, summarize } from "../../domain/runResult.ts"
import {
  type RunFailure,
  type RunMachineEvent,
  runMachine,
  type TurnOutcome,
} from "../../machines/runMachine.ts"
import { stateName } from "../../machines/stateName.ts"
import type { Approvals } from "../approvals/Approvals.ts"
import type { AppServerClient } from "../appServer/AppServerClient.ts"
import type { EventLog } from "../events/EventLog.ts"
import type { ExecAdapter, ExecTurn } from "../exec/ExecAdapter.ts"
import type { Sessions } from "../sessions/Sessions.ts"
import type { Store } from "../store/Store.ts"
import { machineEventOf, type RunIds, recordedEventOf, turnIdOf } from "./turnEvents.ts"

export interface LiveRunDeps {
  readonly store: Store["Service"]
  readonly events: EventLog["Service"]
  readonly sessions: Sessions["Service"]
  readonly approvals: Approvals["Service"]
  readonly currentClient: () => AppServerClient | null
  /** Exec mode's turns; null in app-server mode. */
  readonly exec: ExecAdapter["Service"] | null
  readonly silenceTimeoutMs: number
  readonly idleGraceMs: number
  readonly interruptGraceMs: number
  /** Run an effect with the daemon's services. */
  readonly runEffect: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
  /** The run is on `threadId` now: route that thread's events to it. */
  readonly onThread: (run: LiveRun, threadId: string) => void
  readonly onFinished: (run: LiveRun) => void
}

type RunActor = Actor<typeof runMachine>

/** The outcome of a turn as `thread/read` reports it. */
export const outcomeOfTurn = (turn: {
  readonly status: TurnOutcome["status"]
  readonly error?: { readonly message: string; readonly codexErrorInfo?: unknown } | null | undefined
}): TurnOutcome => ({
  status: turn.status,
  errorMessage: turn.error?.message ?? null,
  ...(turn.error?.codexErrorInfo == null ? {} : { codexErrorInfo: turn.error.codexErrorInfo }),
})

export class LiveRun {
  record: RunRecord
  threadId: string | null
  client: AppServerClient | null = null
  readonly actor: RunActor
  private readonly deps: LiveRunDeps
  private readonly result = new RunResultBuilder()
  /** File-change diffs by item id, for approvals that ask about them. */
  private readonly proposedDiffs = new Map<string, string>()
  private writes: Promise<unknown> = Promise.resolve()
  /** The end of the run being recorded (record, session, approvals, final event), once it ended. */
  private finishing: Promise<unknown> = Promise.resolve()
  private machineState = ""
  private unroute: () => void = () => undefined
  /** Exec mode: the process running this run's turn. */
  private execTurn: ExecTurn | null = null

  constructor(record: RunRecord, deps: LiveRunDeps) {
    this.record = record
    this.threadId = record.threadId
    this.deps = deps
    const machine = runMachine.provide({
      actors: {
        startTurn: fromPromise(({ input }) =>
          deps.exec === null ? this.startTurn(input.prompt) : this.startExecTurn(deps.exec, input.prompt),
        ),
        interruptTurn: fromPromise(async ({ input }) => {
          if (this.execTurn !== null) {
            this.execTurn.interrupt()
            return
          }
          const client = this.client
          if (client === null || this.threadId === null || input.turnId === null) return
          await deps.runEffect(
            Effect.ignore(client.turnInterrupt({ threadId: this.threadId, turnId: input.turnId })),
          )
        }),
        readTurn: fromPromise(({ input }) => this.readTurn(input.turnId)),
      },
      delays: {
        silenceTimeout: deps.silenceTimeoutMs,
        idleGrace: deps.idleGraceMs,
        interruptGrace: deps.interruptGraceMs,
      },
    })
    this.actor = createActor(machine, { input: { runId: record.runId, prompt: record.prompt } })
    this.actor.subscribe((snapshot) => this.onSnapshot(snapshot))
    this.actor.start()
  }

  get runId() {
    return this.record.runId
  }

  get sessionId() {
    return this.record.sessionId as NonNullable<RunRecord["sessionId"]>
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

  send(event: RunMachineEvent): void {
    this.actor.send(event)
  }

  /** An event of this run's thread. */
  handle(event: AppServerEvent): void {
    const turnId = turnIdOf(event)
    const own = this.turnId
    // Late events of an earlier turn of the same thread are not this run's.
    if (turnId !== null && own !== null && turnId !== own) return
    this.result.add(event)
    if (event.type === "item.started" && event.item.type === "fileChange") this.rememberDiff(event.item)
    const recorded = recordedEventOf(event, this.ids)
    if (recorded !== null) this.publish(recorded)
    this.send(machineEventOf(event))
  }

  /** Change the prompt of a queued run. */
  editPrompt(prompt: string): Promise<void> {
    this.send({ type: "STEER", text: prompt })
    return this.save((r) => ({ ...r, prompt }))
  }

  /** Resolves once every record write so far is durable, and the run's end recorded if it ended. */
  settled(): Promise<unknown> {
    return Promise.all([this.writes, this.finishing])
  }

  private async startTurn(prompt: string): Promise<{ turnId: string }> {
    const { sessions, approvals, runEffect, currentClient } = this.deps
    const client = currentClient()
    if (client === null) throw new Error("the app-server is not ready")
    this.client = client
    const threadId = await runEffect(sessions.threadFor(this.sessionId, client))
    this.threadId = threadId
    this.deps.onThread(this, threadId)
    const session = await runEffect(sessions.get(this.sessionId))
    this.unroute = approvals.route(threadId, {
      runId: this.runId,
      sessionId: this.sessionId,
      turnId: () => this.turnId,
      mode: this.record.approvals ?? session.approvals,
      onAsked: () => this.send({ type: "APPROVAL.ASKED" }),
      onSettled: () => this.send({ type: "APPROVAL.SETTLED" }),
      onExpired: () => this.send({ type: "APPROVAL.TIMED_OUT" }),
      diffOf: (itemId) => this.proposedDiffs.get(itemId) ?? null,
    })
    // Recorded as running on its thread before the turn starts: after a crash from here on the run is
    // never started again (codex may have begun it), only reconciled.
    await this.save((r) => ({
      ...r,
      status: "running",
      startedAt: r.startedAt ?? new Date().toISOString(),
      threadId,
    }))
    const started = await runEffect(
      client.turnStart({
        threadId,
        input: [textInput(prompt)],
        ...(this.record.cwd === null ? {} : { cwd: this.record.cwd }),
        ...(session.reasoningEffort === null ? {} : { effort: session.reasoningEffort }),
      }),
    )
    return { turnId: started.turn.id }
  }

  /** Exec mode: the turn is one `codex exec` process; a new thread is known once it says so. */
  private async startExecTurn(exec: ExecAdapter["Service"], prompt: string): Promise<{ turnId: string }> {
    const { sessions, runEffect } = this.deps
    const session = await runEffect(sessions.get(this.sessionId))
    const resumeThreadId = session.threadId
    if (resumeThreadId !== null) this.adoptThread(resumeThreadId)
    // Recorded as running before the process starts, as in app-server mode: never started twice.
    await this.save((r) => ({
      ...r,
      status: "running",
      startedAt: r.startedAt ?? new Date().toISOString(),
      threadId: resumeThreadId,
    }))
    const turnId = `exec-${this.runId}`
    this.execTurn = await runEffect(
      exec.startTurn(
        {
          prompt,
          turnId,
          cwd: this.record.cwd ?? session.cwd,
          sandbox: session.sandbox as SandboxMode | null,
          model: session.model,
          config:
            session.reasoningEffort === null
              ? []
              : [["model_reasoning_effort", JSON.stringify(session.reasoningEffort)]],
          resumeThreadId,
        },
        {
          onEvent: (event) => {
            if (event.type === "thread.started") {
              const threadId = event.thread.id
              if (threadId !== this.threadId) {
                this.adoptThread(threadId)
                void this.save((r) => ({ ...r, threadId }))
              }
              void runEffect(sessions.execThreadStarted(this.sessionId, threadId))
            }
            this.handle(event)
          },
          onLost: (reason) => this.send({ type: "CHILD.EXITED", reason }),
        },
      ),
    )
    return { turnId }
  }

  private adoptThread(threadId: string): void {
    this.threadId = threadId
    this.deps.onThread(this, threadId)
  }

  private async readTurn(turnId: string | null): Promise<TurnOutcome> {
    const client = this.client
    if (client === null || this.threadId === null) throw new Error("no thread to read")
    const read = await this.deps.runEffect(client.threadRead({ threadId: this.threadId, includeTurns: true }))
    const turn = read.thread.turns?.find((t) => t.id === turnId)
    if (turn === undefined) throw new Error(`thread/read does not list turn ${turnId}`)
    return outcomeOfTurn(turn)
  }

  private rememberDiff(item: Record<string, unknown>): void {
    if (!Array.isArray(item.changes)) return
    const diffs = (item.changes as ReadonlyArray<Record<string, unknown>>)
      .map((change) => (typeof change.diff === "string" ? `--- ${String(change.path)}\n${change.diff}` : ""))
      .filter((d) => d !== "")
    if (diffs.length > 0) this.proposedDiffs.set(String(item.id), diffs.join("\n"))
  }

  private publish(input: EventInput): void {
    void this.deps.runEffect(this.deps.events.publish(input))
  }

  private save(f: (record: RunRecord) => RunRecord): Promise<void> {
    const now = new Date().toISOString()
    this.record = { ...f(this.record), updatedAt: now }
    const record = this.record
    const write = this.writes.then(() =>
      this.deps.runEffect(
        this.deps.store
          .updateRuns((registry) => ({
            ...registry,
            runs: registry.runs.map((r) => (r.runId === record.runId ? record : r)),
          }))
          .pipe(Effect.catch((error) => Effect.logError(`run ${record.runId} not saved: ${error.message}`))),
      ),
    )
    this.writes = write
    return write.then(() => undefined)
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
      void this.save((r) => ({ ...r, turnId }))
      void this.deps.runEffect(this.deps.sessions.turnStarted(this.sessionId, turnId))
    }
    this.publish({ type: "run.state", message: `run ${this.runId} ${state}`, detail: { ...this.ids, state } })
  }

  private finish(failure: RunFailure | null, turnStatus: string | null): void {
    this.unroute()
    const built = this.result.result()
    const result = {
      ...built,
      threadId: built.threadId ?? this.threadId,
      turnId: built.turnId ?? this.turnId,
      turnStatus: turnStatus ?? built.turnStatus,
      ...(failure?.codexErrorInfo === undefined ? {} : { codexErrorInfo: failure.codexErrorInfo }),
    }
    const summary = summarize(result, failure)
    const finishedAt = new Date().toISOString()
    const status = failure === null ? ("completed" as const) : ("failed" as const)
    const { sessions, approvals, events, runEffect } = this.deps
    this.finishing = (async () => {
      // The session first: whoever sees the run finished also sees it as its session's last turn.
      await runEffect(sessions.turnEnded(this.sessionId, result.turnId, result.turnStatus ?? status))
      await this.save((r) => ({
        ...r,
        status,
        finishedAt,
        startedAt: r.startedAt ?? (failure === null ? finishedAt : null),
        threadId: result.threadId,
        turnId: result.turnId,
        error: failure?.message ?? null,
        errorCode: failure?.code ?? null,
        summary,
        result: result as unknown as Record<string, unknown>,
      }))
      await runEffect(approvals.cancelRun(this.runId, "the run ended"))
      await runEffect(
        events.publish({
          level: failure === null ? "info" : "error",
          type: `run.${status}`,
          message: `run ${this.runId} ${summary}`,
          detail: { ...this.ids, status, errorCode: failure?.code ?? null, summary },
        }),
      )
      this.deps.onFinished(this)
    })()
  }
}
