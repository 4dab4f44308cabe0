/**
 * Supervisor: runs `childMachine` against the real thing. Owns the managed child: spawning it with
 * execa (or attaching to an external app-server over WebSocket, or, in exec mode, probing the codex
 * binary), its AppServerClient, the readiness gate (initialize answered), killing it (SIGTERM to its
 * process group, SIGKILL after the kill timeout), restart delays with jitter, the child's stderr log,
 * reaping a child a SIGKILLed daemon left behind, and reporting every transition (daemon state through
 * the Store, an event through the EventLog). The actors themselves live beside this file.
 * Does not own: sessions, runs, or what the child is asked to do.
 *
 * The child is a `SubscriptionRef` of its state and current client: readers take the current value
 * or follow its changes as a Stream. Every change of the machine and every attachment goes through
 * one queue, drained by one fiber of this layer, so the state is saved and announced in the order it
 * happened, and the machine's delays run on Effect's Clock (a TestClock moves them in tests).
 */
import { appendFileSync } from "node:fs"
import type * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { type Actor, createActor, type InspectionEvent } from "xstate"
import { CodexdConfig } from "../../config.ts"
import type { ServerRequestHandler } from "../../domain/appServer/serverRequests.ts"
import { ManagedChildState, type ManagedChildStatus } from "../../domain/daemon.ts"
import { AppServerUnavailableError } from "../../domain/errors.ts"
import { backoffMs, childMachine, childStatusOf, isChildSettled } from "../../machines/childMachine.ts"
import { stateName } from "../../machines/stateName.ts"
import type { AppServerClient } from "../appServer/AppServerClient.ts"
import { EventLog } from "../events/EventLog.ts"
import { redactText } from "../logging/redact.ts"
import { makeBridge } from "../runtime.ts"
import { Store } from "../store/Store.ts"
import type { AppServerProcess } from "../transport/appServerProcess.ts"
import { appServerConnectionActor } from "./appServerConnectionActor.ts"
import { childProcessActor } from "./childProcessActor.ts"
import { makeDaemonStartBudget } from "./codexDaemon.ts"
import { execProbeActor } from "./execProbeActor.ts"
import { reapStaleChild } from "./staleChild.ts"

export interface SupervisorOptions {
  readonly startTimeoutMs: number
  readonly stableAfterMs: number
  readonly killTimeoutMs: number
  readonly maxRestarts: number
  readonly restartWindowMs: number
  /** Backoff before restart number `n` (1-based); default 250 ms × 2^(n-1), capped at 30 s, ±20% jitter. */
  readonly backoffDelayMs: (consecutiveFailures: number) => number
  readonly clientVersion: string
  readonly onServerRequest?: ServerRequestHandler
  /** Write every raw protocol line to the child stdout log (opt-in: it holds prompts and output). */
  readonly protocolLog: boolean
  /** Inspection events of the machine actor, for the Stately inspector (opt-in). */
  readonly inspect?: (event: InspectionEvent) => void
}

export const defaultSupervisorOptions: SupervisorOptions = {
  startTimeoutMs: 20_000,
  stableAfterMs: 60_000,
  killTimeoutMs: 5_000,
  maxRestarts: 5,
  restartWindowMs: 60_000,
  backoffDelayMs: (n) => backoffMs(n) * (0.8 + Math.random() * 0.4),
  clientVersion: "0.0.0",
  protocolLog: false,
}

/** The child as the rest of the daemon sees it. */
export interface ChildView {
  readonly state: ManagedChildState
  /** The client of the running child (or attached server) once it answered initialize; null otherwise. */
  readonly client: AppServerClient | null
}

/** What a manual restart did. */
export interface RestartAnswer {
  /** The machine state the restart found. */
  readonly from: string
  readonly action: string
}

export class Supervisor extends Context.Service<
  Supervisor,
  {
    /** Start the child (or attach, with the external strategy). Returns at once. */
    readonly start: Effect.Effect<void>
    /** Stop the child and wait until its process has exited. */
    readonly stop: Effect.Effect<void>
    /**
     * Manual restart in every state: a running or starting child is stopped gracefully and a new one
     * started; out of `failed`, `stopped` or a backoff at once. The crash-loop budget starts afresh.
     */
    readonly restart: Effect.Effect<RestartAnswer>
    /** The child now. */
    readonly current: Effect.Effect<ChildView>
    /** The child now, then every change. */
    readonly changes: Stream.Stream<ChildView>
    /** The current client, or why there is none. */
    readonly client: Effect.Effect<AppServerClient, AppServerUnavailableError>
    /** Wait until the child is running, failed, stopped or external, and say which. */
    readonly settled: Effect.Effect<ManagedChildStatus>
  }
>()("codexd/Supervisor") {
  static readonly layer = (
    options: Partial<SupervisorOptions> = {},
  ): Layer.Layer<Supervisor, never, CodexdConfig | Store | EventLog> =>
    Layer.effect(Supervisor, makeSupervisor({ ...defaultSupervisorOptions, ...options }))
}

type ChildActor = Actor<typeof childMachine>
type Change =
  | { readonly _tag: "Snapshot"; readonly snapshot: ReturnType<ChildActor["getSnapshot"]> }
  | { readonly _tag: "Attached"; readonly client: AppServerClient }
  | { readonly _tag: "Detached"; readonly client: AppServerClient }
  /** Reached once every change offered before it has been applied. */
  | { readonly _tag: "Barrier"; readonly reached: Deferred.Deferred<void> }

const sameChildState = Schema.toEquivalence(ManagedChildState)

const childStateOf = (snapshot: ReturnType<ChildActor["getSnapshot"]>): ManagedChildState => {
  const machineState = stateName(snapshot.value)
  const c = snapshot.context
  return {
    strategy: c.strategy,
    mode: c.mode,
    endpoint: c.endpoint,
    status: childStatusOf(machineState),
    command: c.strategy === "external" ? null : c.command,
    // Exec mode runs `codex exec --json …` per run; these are the arguments every run starts with.
    args: c.mode === "exec" ? ["exec", "--json"] : [...c.args],
    cwd: c.cwd,
    pid: c.pid,
    startedAt: c.startedAt,
    exitedAt: c.exitedAt,
    exitCode: c.exitCode,
    signal: c.signal,
    lastError: c.lastError,
    userAgent: c.userAgent,
    restartCount: c.restartCount,
    machineState,
  }
}

const makeSupervisor = (options: SupervisorOptions) =>
  Effect.gen(function* () {
    const config = yield* CodexdConfig
    const store = yield* Store
    const eventLog = yield* EventLog
    const bridge = yield* makeBridge<never>()

    yield* reapStaleChild(store, eventLog)

    const changesInbox = yield* Queue.unbounded<Change, Cause.Done>()
    const offer = (change: Change) => void Queue.offerUnsafe(changesInbox, change)
    /** Every child process not yet exited, so `stop` can wait for each (actor cleanup may run later). */
    const live = new Set<AppServerProcess>()
    const actorOptions = {
      sink: {
        attach: (client: AppServerClient) => offer({ _tag: "Attached", client }),
        detach: (client: AppServerClient) => offer({ _tag: "Detached", client }),
      },
      clientOptions: {
        clientInfo: { name: "codexd", title: "codexd", version: options.clientVersion },
        experimentalApi: true,
        ...(options.onServerRequest === undefined ? {} : { onServerRequest: options.onServerRequest }),
      },
      ...(options.protocolLog ? { onRawLine: protocolLogger(config.paths.stdoutLogPath) } : {}),
    }

    const machine = childMachine.provide({
      actors: {
        childProcess: childProcessActor(bridge, {
          ...actorOptions,
          stderrLog: { path: config.paths.stderrLogPath, rotation: config.logRotation },
          killTimeoutMs: options.killTimeoutMs,
          live,
        }),
        appServerConnection: appServerConnectionActor(bridge, {
          ...actorOptions,
          tokenFile: config.server.serverTokenFile,
          codexDaemon:
            config.server.codexDaemon === undefined || config.server.codexDaemon === null
              ? null
              : {
                  target: config.server.codexDaemon,
                  command: config.server.childCommand,
                  cwd: config.server.childCwd,
                  budget: makeDaemonStartBudget(options.maxRestarts, options.restartWindowMs),
                },
        }),
        execProbe: execProbeActor(bridge),
      },
      delays: {
        startTimeout: options.startTimeoutMs,
        stableAfter: options.stableAfterMs,
        backoffDelay: ({ context }) => options.backoffDelayMs(context.consecutiveFailures),
      },
    })
    const actor = createActor(machine, {
      clock: bridge.clock,
      ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
      input: {
        strategy: config.server.childStrategy,
        mode: config.server.mode,
        endpoint: config.server.endpoint,
        command: config.server.childCommand,
        args: config.server.childArgs,
        cwd: config.server.childCwd,
        maxRestarts: options.maxRestarts,
        restartWindowMs: options.restartWindowMs,
      },
    })

    const view = yield* SubscriptionRef.make<ChildView>({
      state: childStateOf(actor.getSnapshot()),
      client: null,
    })

    /** Save and announce one change of the child's state, in order. */
    const report = (previous: ManagedChildState, next: ManagedChildState) =>
      Effect.gen(function* () {
        yield* store
          .updateDaemonState((state) => ({ ...(state ?? emptyDaemonState(next)), child: next }))
          .pipe(Effect.catch((error) => Effect.logError(`daemon state not saved: ${error.message}`)))
        if (next.exitedAt !== previous.exitedAt && next.exitedAt !== null) {
          yield* eventLog.publish({
            level: "warn",
            type: "child.exited",
            message: exitMessage(next),
            detail: {
              pid: previous.pid,
              exitCode: next.exitCode,
              signal: next.signal,
              error: next.lastError,
            },
          })
        }
        if (next.machineState !== previous.machineState) {
          yield* eventLog.publish({
            level: next.status === "failed" ? "error" : "info",
            type: "child.state",
            message: `app-server ${next.machineState}${next.pid !== null ? ` (pid ${next.pid})` : ""}`,
            detail: {
              state: next.machineState,
              status: next.status,
              pid: next.pid,
              restartCount: next.restartCount,
              lastError: next.lastError,
            },
          })
        }
      })

    const apply = (change: Change) =>
      Effect.gen(function* () {
        if (change._tag === "Barrier") return yield* Deferred.succeed(change.reached, undefined)
        const before = yield* SubscriptionRef.get(view)
        const after: ChildView =
          change._tag === "Snapshot"
            ? { ...before, state: childStateOf(change.snapshot) }
            : change._tag === "Attached"
              ? { ...before, client: change.client }
              : before.client === change.client
                ? { ...before, client: null }
                : before
        const stateChanged = !sameChildState(before.state, after.state)
        if (!stateChanged && before.client === after.client) return
        yield* SubscriptionRef.set(view, after)
        if (stateChanged) yield* report(before.state, after.state)
      })

    const drained = yield* Effect.forkScoped(
      Queue.take(changesInbox).pipe(
        Effect.flatMap(apply),
        Effect.forever,
        Effect.catchCause(() => Effect.void),
      ),
    )
    const subscription = actor.subscribe((snapshot) => offer({ _tag: "Snapshot", snapshot }))
    actor.start()

    const current = SubscriptionRef.get(view)
    const changes = SubscriptionRef.changes(view)

    const settled = changes.pipe(
      Stream.filter((v) => isChildSettled(v.state)),
      Stream.runHead,
      Effect.map((first) => (first._tag === "Some" ? first.value.state.status : "stopped")),
    )

    /** Wait until every change offered so far is saved, announced and visible in `current`. */
    const applied = Effect.gen(function* () {
      const reached = yield* Deferred.make<void>()
      offer({ _tag: "Barrier", reached })
      yield* Deferred.await(reached)
    })

    const stop = Effect.gen(function* () {
      actor.send({ type: "STOP" })
      yield* Effect.promise(() => Promise.all([...live].map((proc) => proc.stop(options.killTimeoutMs))))
      yield* applied
    })

    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        yield* stop
        subscription.unsubscribe()
        actor.stop()
        // What was reported before the end is saved and announced before the layer closes.
        yield* Queue.end(changesInbox)
        yield* Fiber.await(drained)
      }),
    )

    return Supervisor.of({
      start: Effect.sync(() => actor.send({ type: "START" })),
      stop,
      restart: Effect.sync(() => {
        const from = stateName(actor.getSnapshot().value)
        actor.send({ type: "RESTART" })
        return { from, action: restartAction(from) }
      }),
      current,
      changes,
      client: Effect.flatMap(current, (child) =>
        child.client !== null && !child.client.isClosed()
          ? Effect.succeed(child.client)
          : Effect.fail(new AppServerUnavailableError({ status: child.state.status })),
      ),
      settled,
    })
  })

const restartAction = (from: string): string => {
  if (from.startsWith("alive")) return "stopping the child gracefully and starting a new one"
  if (from.startsWith("external")) return "dropping the connection and attaching again"
  if (from === "exec") return "asking the codex binary its version again"
  return "starting the child now, with a fresh crash-loop budget"
}

const exitMessage = (child: ManagedChildState): string => {
  const why = child.lastError ? `: ${child.lastError}` : ""
  if (child.strategy === "external")
    return `connection to the external app-server ${child.endpoint} ended${why}`
  if (child.mode === "exec") return `codex did not answer its version probe${why}`
  return `app-server exited (${child.signal !== null ? `signal ${child.signal}` : `code ${child.exitCode}`})${why}`
}

const emptyDaemonState = (child: ManagedChildState) => ({
  started: false,
  startedAt: null,
  stoppedAt: null,
  updatedAt: new Date(0).toISOString(),
  pid: null,
  apiBase: null,
  child,
})

const protocolLogger = (path: string) => (direction: "in" | "out", line: string) => {
  appendFileSync(path, `${direction === "in" ? "<" : ">"} ${redactText(line)}\n`, { mode: 0o600 })
}
