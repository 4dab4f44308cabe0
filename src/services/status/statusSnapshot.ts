/**
 * The status snapshot (DESIGN §3) read from the state files, as `codexd status` shows it whether or
 * not a daemon runs. The files are written through on every change, so they are current.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { CodexdConfig } from "../../config.ts"
import type { ResolvedConfig } from "../../domain/config.ts"
import type { DaemonState, ManagedChildState } from "../../domain/daemon.ts"
import type { StatusSnapshot } from "../../domain/status.ts"
import { usageTotals } from "../../domain/usage.ts"
import { lockHolder } from "../store/StateLock.ts"
import { type CorruptFileReport, Store, type StoreError } from "../store/Store.ts"

export interface StatusReading {
  /** Null when no daemon has ever run on this state directory. */
  readonly snapshot: StatusSnapshot | null
  /** The pid of the live daemon, or null when none runs. */
  readonly runningPid: number | null
  readonly corruptFiles: ReadonlyArray<CorruptFileReport>
}

export const idleChild = (config: ResolvedConfig): ManagedChildState => ({
  strategy: config.server.childStrategy,
  mode: config.server.mode,
  endpoint: config.server.endpoint,
  status: "idle",
  command: config.server.childCommand,
  args: [...config.server.childArgs],
  cwd: config.server.childCwd,
  pid: null,
  startedAt: null,
  exitedAt: null,
  exitCode: null,
  signal: null,
  lastError: null,
  userAgent: null,
  restartCount: 0,
  machineState: "idle",
})

/** The daemon state of a state directory no daemon has run on yet. */
export const neverStarted = (config: ResolvedConfig): DaemonState => ({
  started: false,
  startedAt: null,
  stoppedAt: null,
  updatedAt: new Date(0).toISOString(),
  pid: null,
  apiBase: null,
  child: idleChild(config),
})

/** The snapshot from an open Store (the daemon's own, or a read-only one). */
export const snapshotOf = (config: ResolvedConfig, store: Store["Service"], runningPid: number | null) =>
  Effect.gen(function* () {
    if (store.identity === null) return null
    const daemon = (yield* store.daemonState) ?? neverStarted(config)
    const runRegistry = yield* store.runs
    const snapshot: StatusSnapshot = {
      config,
      identity: store.identity,
      // A daemon killed with SIGKILL could not record its end: say what the lock says.
      daemon: runningPid === null && daemon.started ? { ...daemon, started: false } : daemon,
      sessionRegistry: yield* store.sessions,
      runRegistry,
      recentEvents: yield* store.eventCache,
      usage: usageTotals(runRegistry.runs),
    }
    return snapshot
  })

export const readStatus = (config: ResolvedConfig): Effect.Effect<StatusReading, StoreError> =>
  Effect.gen(function* () {
    const store = yield* Store
    const runningPid = lockHolder(config.paths.lockPath)
    const snapshot = yield* snapshotOf(config, store, runningPid)
    return { snapshot, runningPid, corruptFiles: store.corruptFiles }
    // Read-only: a status reader never creates, moves or rewrites a file.
  }).pipe(Effect.provide(Store.layer({ readOnly: true }).pipe(Layer.provide(CodexdConfig.layerOf(config)))))

/** The child in a few words, for the line that says the daemon is ready. */
export const describeChild = (child: ManagedChildState): string => {
  if (child.mode === "exec") return `exec mode (${child.userAgent ?? "codex"}, one codex exec per run)`
  if (child.status !== "external") return `child pid ${child.pid ?? "none"} (${child.status})`
  return child.machineState === "external.link.connected"
    ? `attached to ${child.endpoint}`
    : `attaching to ${child.endpoint} (not reachable yet: ${child.lastError ?? "no answer"}; retrying)`
}
