/**
 * Supervisor: runs `childMachine` against the real thing. Owns the managed child: spawning it with
 * execa (or attaching to an external app-server over WebSocket, or, in exec mode, probing the codex
 * binary), its AppServerClient, the readiness gate (initialize answered), killing it (SIGTERM to its
 * process group, SIGKILL after the kill timeout), restart delays with jitter, the child's stderr log,
 * reaping a child a SIGKILLed daemon left behind, and reporting every transition (daemon state through
 * the Store, an event through the EventLog). The actors themselves live in `child/`.
 * Does not own: sessions, runs, or what the child is asked to do.
 */
import { appendFileSync } from "node:fs"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { type Actor, createActor, type InspectionEvent } from "xstate"
import { CodexdConfig } from "../../config.ts"
import type { ServerRequestHandler } from "../../domain/appServer/serverRequests.ts"
import type { ManagedChildState, ManagedChildStatus } from "../../domain/daemon.ts"
import { backoffMs, childMachine, childStatusOf, isChildSettled } from "../../machines/childMachine.ts"
import { stateName } from "../../machines/stateName.ts"
import type { AppServerClient } from "../appServer/AppServerClient.ts"
import { EventLog } from "../events/EventLog.ts"
import { redactText } from "../logging/redact.ts"
import { Store } from "../store/Store.ts"
import type { AppServerProcess } from "../transport/appServerProcess.ts"
import { appServerConnectionActor } from "./appServerConnectionActor.ts"
import type { Attachment } from "./attachment.ts"
import { childProcessActor } from "./childProcessActor.ts"
import { execProbeActor } from "./execProbeActor.ts"
import { isLiveProcessOf, killProcessTree } from "./staleChild.ts"

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

export type ChildActor = Actor<typeof childMachine>

export class Supervisor extends Context.Service<
  Supervisor,
  {
    readonly actor: ChildActor
    /** Start the child (or attach, with the external strategy). Returns at once. */
    readonly start: Effect.Effect<void>
    /** Stop the child and wait until its process has exited. */
    readonly stop: Effect.Effect<void>
    /** Manual restart: also out of `failed`, with a fresh crash-loop budget. */
    readonly restart: Effect.Effect<void>
    readonly childState: () => ManagedChildState
    /** The client of the running child, once it answered initialize; null otherwise. */
    readonly client: () => AppServerClient | null
    /** Wait until the child is running, failed, stopped or external, and say which. */
    readonly settled: Effect.Effect<ManagedChildStatus>
    readonly onChange: (listener: (state: ManagedChildState) => void) => () => void
  }
>()("codexd/Supervisor") {
  static readonly layer = (
    options: Partial<SupervisorOptions> = {},
  ): Layer.Layer<Supervisor, never, CodexdConfig | Store | EventLog> =>
    Layer.effect(Supervisor, makeSupervisor({ ...defaultSupervisorOptions, ...options }))
}

const makeSupervisor = (options: SupervisorOptions) =>
  Effect.gen(function* () {
    const config = yield* CodexdConfig
    const store = yield* Store
    const eventLog = yield* EventLog
    const services = yield* Effect.context<never>()
    /** Reports (state writes, events) in flight, so shutdown waits for the last ones to land. */
    const reporting = new Set<Promise<unknown>>()
    const run = <A>(effect: Effect.Effect<A>) => {
      const done = Effect.runPromiseWith(services)(effect)
      reporting.add(done)
      void done.finally(() => reporting.delete(done))
    }

    yield* reapStaleChild(store, eventLog)

    let current: Attachment | null = null
    /** Every child process not yet exited, so `stop` can wait for each (actor cleanup may run later). */
    const live = new Set<AppServerProcess>()
    const actorOptions = {
      attach: (attachment: Attachment) => {
        current = attachment
      },
      detach: (attachment: Attachment) => {
        if (current === attachment) current = null
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
        childProcess: childProcessActor({
          ...actorOptions,
          stderrPath: config.paths.stderrLogPath,
          killTimeoutMs: options.killTimeoutMs,
          live,
        }),
        appServerConnection: appServerConnectionActor({
          ...actorOptions,
          tokenFile: config.server.serverTokenFile,
        }),
        execProbe: execProbeActor(),
      },
      delays: {
        startTimeout: options.startTimeoutMs,
        stableAfter: options.stableAfterMs,
        backoffDelay: ({ context }) => options.backoffDelayMs(context.consecutiveFailures),
      },
    })
    const actor = createActor(machine, {
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

    const toChildState = (snapshot: ReturnType<ChildActor["getSnapshot"]>): ManagedChildState => {
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

    let childState = toChildState(actor.getSnapshot())
    const listeners = new Set<(state: ManagedChildState) => void>()

    actor.subscribe((snapshot) => {
      const next = toChildState(snapshot)
      if (JSON.stringify(next) === JSON.stringify(childState)) return
      const previous = childState
      childState = next
      for (const listener of listeners) listener(next)
      const exited = next.exitedAt !== previous.exitedAt && next.exitedAt !== null
      run(
        Effect.gen(function* () {
          yield* store
            .updateDaemonState((state) => ({ ...(state ?? emptyDaemonState(next)), child: next }))
            .pipe(Effect.catch((error) => Effect.logError(`daemon state not saved: ${error.message}`)))
          if (exited) {
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
        }),
      )
    })
    actor.start()

    const settled = Effect.gen(function* () {
      const done = yield* Deferred.make<ManagedChildStatus>()
      const check = (state: ManagedChildState) => {
        if (isChildSettled(state)) Deferred.doneUnsafe(done, Effect.succeed(state.status))
      }
      const stop = (() => {
        listeners.add(check)
        return () => listeners.delete(check)
      })()
      check(childState)
      return yield* Deferred.await(done).pipe(Effect.ensuring(Effect.sync(stop)))
    })

    const stop = Effect.gen(function* () {
      actor.send({ type: "STOP" })
      yield* Effect.promise(() => Promise.all([...live].map((proc) => proc.stop(options.killTimeoutMs))))
    })

    yield* Effect.addFinalizer(() =>
      stop.pipe(
        Effect.andThen(Effect.sync(() => actor.stop())),
        Effect.andThen(Effect.promise(() => Promise.allSettled([...reporting]))),
      ),
    )

    return Supervisor.of({
      actor,
      start: Effect.sync(() => actor.send({ type: "START" })),
      stop,
      restart: Effect.sync(() => actor.send({ type: "RESTART" })),
      childState: () => childState,
      client: () => current?.client ?? null,
      settled,
      onChange: (listener) => {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
    })
  })

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
  updatedAt: new Date().toISOString(),
  pid: null,
  apiBase: null,
  child,
})

/** Kill a child recorded by a previous daemon that died without stopping it. */
const reapStaleChild = (store: Store["Service"], eventLog: EventLog["Service"]) =>
  Effect.gen(function* () {
    const previous = yield* store.daemonState
    const pid = previous?.child.pid ?? null
    const command = previous?.child.command ?? null
    if (pid === null || command === null || pid === process.pid) return
    if (!isLiveProcessOf(pid, command)) return
    killProcessTree(pid, "SIGKILL")
    yield* eventLog.publish({
      level: "warn",
      type: "child.reaped",
      message: `killed app-server pid ${pid} left running by a previous daemon`,
      detail: { pid, command },
    })
  })

const protocolLogger = (path: string) => (direction: "in" | "out", line: string) => {
  appendFileSync(path, `${direction === "in" ? "<" : ">"} ${redactText(line)}\n`)
}
