/**
 * The composition root: the only place that wires live layers together, and the daemon's main
 * program (`codexd start`): take the state-directory lock, record the daemon as started, start the
 * supervised child, report readiness, and on SIGINT/SIGTERM stop the child and record the stop.
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import packageJson from "../package.json" with { type: "json" }
import { CodexdConfig } from "./config.ts"
import type { ResolvedConfig } from "./domain/config.ts"
import type { DaemonState, ManagedChildState } from "./domain/daemon.ts"
import { apiRoutes, DaemonControl } from "./services/api/apiRoutes.ts"
import { ensureApiToken } from "./services/api/apiToken.ts"
import { ApiListenError, serveLocalApi } from "./services/api/LocalApi.ts"
import { threadRoutes } from "./services/api/threadRoutes.ts"
import { Approvals } from "./services/approvals/Approvals.ts"
import { readCodexLogin } from "./services/appServer/codexLogin.ts"
import { Cluster } from "./services/cluster/Cluster.ts"
import { DashboardAuth } from "./services/dashboard/dashboardAuth.ts"
import { dashboardRoutes } from "./services/dashboard/dashboardRoutes.ts"
import { EventLog, type EventLogOptions } from "./services/events/EventLog.ts"
import { ExecAdapter } from "./services/exec/ExecAdapter.ts"
import { startInspector } from "./services/inspector/Inspector.ts"
import { fileLoggingLayer, openPinoFile } from "./services/logging/Logging.ts"
import { refreshEnvSecrets } from "./services/logging/redact.ts"
import type { RunQueue } from "./services/runs/RunQueue.ts"
import { Runs, type RunsOptions } from "./services/runs/Runs.ts"
import { Sessions } from "./services/sessions/Sessions.ts"
import { rateLimitsLayer } from "./services/status/rateLimits.ts"
import { describeChild } from "./services/status/statusSnapshot.ts"
import { acquireCodexHomeLock } from "./services/store/codexHomeLock.ts"
import type { RunStore } from "./services/store/RunStore.ts"
import { acquireLock, LockHeldError } from "./services/store/StateLock.ts"
import { Store, type StoreError } from "./services/store/Store.ts"
import {
  defaultSupervisorOptions,
  Supervisor,
  type SupervisorOptions,
} from "./services/supervisor/Supervisor.ts"

export interface FoundationOptions {
  readonly eventLog?: EventLogOptions
}

/** Configuration, the daemon log, persistence and the event log: what every daemon feature stands on. */
export const foundationLayer = (
  config: ResolvedConfig,
  options: FoundationOptions = {},
): Layer.Layer<CodexdConfig | Store | EventLog, StoreError> =>
  Layer.provideMerge(EventLog.layer(options.eventLog), Store.layer({ readOnly: false })).pipe(
    Layer.provideMerge(CodexdConfig.layerOf(config)),
    // Merged, not only provided: the daemon's own program logs to daemon.log too, not to the console.
    Layer.provideMerge(
      fileLoggingLayer(
        openPinoFile(config.paths.daemonLogPath, { sync: true, rotation: config.logRotation }),
      ),
    ),
  )

/**
 * Everything the daemon runs: the foundation, approvals, the supervised child, exec mode's turns,
 * sessions and runs.
 */
export const daemonLayer = (
  config: ResolvedConfig,
  supervisor: Partial<SupervisorOptions> = {},
  runs: Partial<RunsOptions> = {},
) => {
  // The child's approval requests go to Approvals, which must exist before the child does.
  const supervised = Layer.unwrap(
    Effect.gen(function* () {
      const approvals = yield* Approvals
      return Supervisor.layer({
        clientVersion: packageJson.version,
        protocolLog: config.protocolLog,
        onServerRequest: approvals.handleServerRequest,
        ...supervisor,
      })
    }),
  )
  return Runs.layer(runs).pipe(
    Layer.merge(rateLimitsLayer),
    Layer.provideMerge(Sessions.layer),
    // Exec mode's turns stop as the child would: SIGTERM, then SIGKILL after the same kill timeout.
    Layer.provideMerge(
      ExecAdapter.layer({
        killTimeoutMs: supervisor.killTimeoutMs ?? defaultSupervisorOptions.killTimeoutMs,
      }),
    ),
    Layer.provideMerge(supervised),
    Layer.provideMerge(Approvals.layer),
    // Runs and sessions in the state directory, or shared with other nodes through PostgreSQL.
    Layer.provideMerge(
      config.cluster?.queueUrl == null
        ? (Cluster.alone as Layer.Layer<
            Cluster | RunStore | RunQueue,
            StoreError,
            Store | CodexdConfig | EventLog
          >)
        : Cluster.layer(config.cluster.queueUrl, config.cluster.nodeLeaseMs),
    ),
    Layer.provideMerge(foundationLayer(config)),
  )
}

export interface DaemonReport {
  /** Called once: the daemon is up and the child is ready (or it could not be made ready). */
  readonly ready: (line: string) => void
  readonly failed: (reason: string) => void
  /** Anything else a person starting the daemon should see. */
  readonly note: (line: string) => void
}

/** A listen error in words: "address already in use" says more than EADDRINUSE and a stack. */
const portProblem = (cause: unknown): string => {
  const text = cause instanceof Error ? cause.message : String(cause)
  if (text.includes("EADDRINUSE")) return "the port is in use"
  if (text.includes("EACCES")) return "not allowed to use that port"
  if (text.includes("EADDRNOTAVAIL")) return "not an address of this machine"
  return text
}

export type DaemonOutcome =
  | { readonly _tag: "Stopped" }
  | { readonly _tag: "LockHeld"; readonly error: LockHeldError }
  | { readonly _tag: "ChildFailed"; readonly reason: string }
  /** Something else stopped the start (the API or inspector port in use, a state directory not writable). */
  | { readonly _tag: "Failed"; readonly reason: string }

/** Resolves when SIGINT or SIGTERM arrives (or `stopSignal` is aborted). */
const awaitStopSignal = (stopSignal?: AbortSignal) =>
  Effect.callback<string>((resume) => {
    const onSignal = (signal: NodeJS.Signals) => resume(Effect.succeed(signal))
    process.once("SIGINT", onSignal)
    process.once("SIGTERM", onSignal)
    const onAbort = () => resume(Effect.succeed("abort"))
    stopSignal?.addEventListener("abort", onAbort)
    // Signal handlers do not keep Node alive; with no child (failed, external) nothing else might.
    const keepAlive = setInterval(() => undefined, 2 ** 30)
    return Effect.sync(() => {
      clearInterval(keepAlive)
      process.off("SIGINT", onSignal)
      process.off("SIGTERM", onSignal)
      stopSignal?.removeEventListener("abort", onAbort)
    })
  })

/**
 * Run the daemon in this process until it is told to stop. The lock is taken before anything is
 * written, so a second daemon on the same state directory changes nothing.
 */
export const runDaemon = (
  config: ResolvedConfig,
  report: DaemonReport,
  options: {
    readonly supervisor?: Partial<SupervisorOptions>
    readonly stopSignal?: AbortSignal
    /** Serve the Stately inspector relay on this loopback port. */
    readonly inspectPort?: number
  } = {},
): Promise<DaemonOutcome> => {
  // Values of the daemon's own secret-looking variables are redacted wherever they appear.
  refreshEnvSecrets()
  const lock = acquireLock(config.paths.lockPath)
  if (lock instanceof LockHeldError) return Promise.resolve({ _tag: "LockHeld", error: lock })
  const homeLock = acquireCodexHomeLock(config)
  if (homeLock instanceof LockHeldError) {
    lock.release()
    return Promise.resolve({ _tag: "LockHeld", error: homeLock })
  }

  const program = Effect.gen(function* () {
    // Listening for SIGTERM/SIGINT from the first moment: a signal that came before the listener (say,
    // right as the ready line is printed) would otherwise kill the process with the child left running.
    const shutdownAsked = yield* Deferred.make<string>()
    yield* Effect.forkScoped(
      Effect.flatMap(awaitStopSignal(options.stopSignal), (signal) =>
        Deferred.succeed(shutdownAsked, signal),
      ),
    )
    const store = yield* Store
    const events = yield* EventLog
    const supervisor = yield* Supervisor
    const startedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
    const childNow = Effect.map(supervisor.current, (child) => child.state)
    const started = (child: ManagedChildState): DaemonState => ({
      started: true,
      startedAt,
      stoppedAt: null,
      updatedAt: startedAt,
      pid: process.pid,
      apiBase: null,
      child,
    })
    const initialChild = yield* childNow
    yield* store.updateDaemonState(() => started(initialChild))
    yield* events.publish({
      type: "daemon.started",
      message: `codexd ${packageJson.version} started (pid ${process.pid})`,
      detail: { pid: process.pid, version: packageJson.version, tookOverLockFrom: lock.tookOverFrom },
    })
    yield* Effect.logInfo(
      `codexd ${packageJson.version} started (pid ${process.pid}, state ${config.paths.stateDir})`,
    )

    // The API comes up before the child is ready: runs may be submitted (and wait) from the start.
    const dashboardAuth = new DashboardAuth()
    const api = yield* serveLocalApi({
      localApiBase: config.service.localApiBase,
      token: ensureApiToken(config.paths.apiTokenPath),
      routes: [
        ...apiRoutes(config.service.eventStreamPath),
        ...threadRoutes,
        ...dashboardRoutes(dashboardAuth, config.service.eventStreamPath),
      ],
      browser: dashboardAuth,
    }).pipe(
      Effect.provideService(DaemonControl, {
        shutdown: Effect.asVoid(Deferred.succeed(shutdownAsked, "api-shutdown")),
      }),
    )
    yield* store.updateDaemonState((state) => ({ ...(state ?? started(initialChild)), apiBase: api.apiBase }))
    yield* Effect.logInfo(`api listening on ${api.apiBase}`)
    const cluster = (yield* Cluster).current
    if (cluster !== null) yield* cluster.announceApi(api.apiBase)

    yield* supervisor.start
    const status = yield* supervisor.settled
    const child = yield* childNow
    // Exec mode has no child to fail, but a binary that cannot tell its version cannot run a turn.
    const execBroken = child.mode === "exec" && child.userAgent === null
    if (status === "failed" || execBroken) {
      const why = child.lastError ?? `exit code ${child.exitCode}, signal ${child.signal}`
      const reason = execBroken
        ? `codex cannot run in exec mode: ${why}`
        : `the app-server could not be started: ${why}`
      yield* events.publish({ level: "error", type: "daemon.failed", message: reason, detail: { child } })
      yield* supervisor.stop
      const stoppedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
      yield* store.updateDaemonState((s) => ({
        ...(s ?? started(child)),
        started: false,
        apiBase: null,
        stoppedAt,
      }))
      yield* Effect.logError(`not started: ${reason}`)
      report.failed(reason)
      return { _tag: "ChildFailed", reason } as const
    }
    const readyLine = `codexd ready: pid ${process.pid}, ${describeChild(child)}, api ${api.apiBase} (state ${config.paths.stateDir})`
    yield* Effect.logInfo(readyLine)
    report.ready(readyLine)
    // Said at once rather than found out by the first run, after codex's retries.
    const login =
      child.mode === "exec"
        ? null
        : yield* Effect.flatMap(supervisor.client, (client) => readCodexLogin(client)).pipe(
            Effect.timeout("10 seconds"),
            Effect.catch(() => Effect.succeed(null)),
          )
    if (login !== null && !login.loggedIn && login.hint !== null) {
      report.note(login.hint)
      yield* Effect.logWarning(login.hint)
      yield* events.publish({ level: "warn", type: "codex.not-logged-in", message: login.hint, detail: null })
    }

    const signal = yield* Deferred.await(shutdownAsked)
    yield* events.publish({ type: "daemon.stopping", message: `stopping on ${signal}`, detail: { signal } })
    yield* Effect.logInfo(`stopping on ${signal}`)
    yield* supervisor.stop
    const stoppedChild = yield* childNow
    const stoppedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
    yield* store.updateDaemonState((s) => ({
      ...(s ?? started(stoppedChild)),
      started: false,
      apiBase: null,
      stoppedAt,
      child: stoppedChild,
    }))
    yield* events.publish({ type: "daemon.stopped", message: "codexd stopped", detail: null })
    yield* Effect.logInfo("codexd stopped")
    return { _tag: "Stopped" } as const
  })

  const withInspector = Effect.acquireUseRelease(
    options.inspectPort === undefined
      ? Effect.succeed(null)
      : Effect.tryPromise({
          try: () => startInspector(options.inspectPort as number),
          catch: (cause) =>
            new Error(
              `the inspector cannot listen on 127.0.0.1:${options.inspectPort}: ${portProblem(cause)}; choose another with --inspect=PORT (0: any free port)`,
            ),
        }),
    (inspector) => {
      if (inspector !== null) report.note(`inspector: open ${inspector.url} to watch the machines live`)
      const supervisor =
        inspector === null ? options.supervisor : { ...options.supervisor, inspect: inspector.inspect }
      return Effect.scoped(program).pipe(Effect.provide(daemonLayer(config, supervisor)))
    },
    (inspector) => (inspector === null ? Effect.void : Effect.promise(() => inspector.stop())),
  )
  return Effect.runPromise(
    withInspector.pipe(
      Effect.catch((error) =>
        Effect.sync(() => {
          const reason =
            error instanceof ApiListenError
              ? `the API cannot listen on ${error.address}: ${portProblem(error.message)}; choose another with --api-base http://127.0.0.1:0 (any free port)`
              : error.message
          report.failed(reason)
          return { _tag: "Failed", reason } as const
        }),
      ),
      Effect.ensuring(
        Effect.sync(() => {
          homeLock?.release()
          lock.release()
        }),
      ),
    ),
  )
}
