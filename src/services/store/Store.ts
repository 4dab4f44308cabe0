/**
 * Store: the daemon's persistence. Owns every file under the state directory that holds a record:
 * identity, daemon state, session registry, run registry and its archive, approval registry, the
 * recent-events cache and the event-seq reservation. Keeps the current value of each in memory (one daemon owns a state
 * directory) and writes through, crash-safe, before an update is reported done.
 * Does not own: the lock file, the API token, logs, or what the records mean.
 *
 * A file that fails to parse or decode is moved aside to `<name>.corrupt-<time>` and listed in
 * `corruptFiles` (the EventLog turns each into an error event); the empty default takes its place.
 * Opened read-only (for `codexd status` with no daemon), nothing is created or moved.
 */
import { readdir, rm } from "node:fs/promises"
import { basename, dirname } from "node:path"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { CodexdConfig } from "../../config.ts"
import { ApprovalRegistryState, emptyApprovalRegistry } from "../../domain/approval.ts"
import type { ResolvedConfig } from "../../domain/config.ts"
import { DaemonIdentity, DaemonState } from "../../domain/daemon.ts"
import { decodeJsonText } from "../../domain/decode.ts"
import { emptyEventCache, RecentEventCacheState } from "../../domain/event.ts"
import { newDaemonId, type RunId, type SessionId } from "../../domain/ids.ts"
import type { RunRecord, RunRegistryState } from "../../domain/run.ts"
import type { SessionRecord, SessionRegistryState } from "../../domain/session.ts"
import { ensurePrivateDir } from "../../system/privateFiles.ts"
import { eventCacheJson } from "../events/eventJson.ts"
import { nowIso } from "../now.ts"
import { CoalescingWriter, moveAside, readTextIfExists, writeFileAtomic } from "./atomicFile.ts"
import { JournaledRegistry } from "./journaledRegistry.ts"
import { RunArchive } from "./runArchive.ts"
import { RunRegistryFile, RunRegistrySnapshot } from "./runRegistryFile.ts"
import { SessionRegistrySnapshot, sessionRegistryShape } from "./sessionRegistryFile.ts"

export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  path: Schema.String,
  operation: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `cannot ${this.operation} ${this.path}: ${this.reason}`
  }
}

export interface CorruptFileReport {
  readonly path: string
  /** Where the file was moved; null when the store was opened read-only and left it in place. */
  readonly movedTo: string | null
  readonly reason: string
}

export interface StoreOptions {
  readonly readOnly: boolean
}

const EventSeqReservation = Schema.Struct({ reservedThrough: Schema.Int })

export class Store extends Context.Service<
  Store,
  {
    /** Null only in a read-only store of a state directory that never had a daemon. */
    readonly identity: DaemonIdentity | null
    readonly corruptFiles: ReadonlyArray<CorruptFileReport>
    readonly daemonState: Effect.Effect<DaemonState | null>
    /** Read-modify-write of the daemon state; `f` gets null when there is none yet. */
    readonly updateDaemonState: (
      f: (state: DaemonState | null) => DaemonState,
    ) => Effect.Effect<DaemonState, StoreError>
    readonly sessions: Effect.Effect<SessionRegistryState>
    /** Insert or replace sessions; resolves once durable. */
    readonly putSessions: (sessions: ReadonlyArray<SessionRecord>) => Effect.Effect<void, StoreError>
    /** Replace the session by `f` of it as stored now; resolves once durable; null when there is none. */
    readonly updateSession: (
      sessionId: SessionId,
      f: (session: SessionRecord) => SessionRecord,
    ) => Effect.Effect<SessionRecord | null, StoreError>
    readonly approvals: Effect.Effect<ApprovalRegistryState>
    readonly updateApprovals: (
      f: (registry: ApprovalRegistryState) => ApprovalRegistryState,
    ) => Effect.Effect<ApprovalRegistryState, StoreError>
    readonly runs: Effect.Effect<RunRegistryState>
    /** Insert or replace runs, archive finished runs past the retention limit; resolves once durable. */
    readonly putRuns: (runs: ReadonlyArray<RunRecord>) => Effect.Effect<void, StoreError>
    /**
     * Replace the registry's run by `f` of it as stored now (no other change can come between) and
     * resolve once durable; null when the registry has no such run.
     */
    readonly updateRun: (
      runId: RunId,
      f: (run: RunRecord) => RunRecord,
    ) => Effect.Effect<RunRecord | null, StoreError>
    /** A run by id, whether it is in the registry or in the archive. */
    readonly findRun: (runId: RunId) => Effect.Effect<RunRecord | null, StoreError>
    readonly eventCache: Effect.Effect<RecentEventCacheState>
    readonly saveEventCache: (cache: RecentEventCacheState) => Effect.Effect<void, StoreError>
    /** The highest event seq that may have been handed out; seqs after a restart start above it. */
    readonly eventSeqReservedThrough: number
    readonly reserveEventSeq: (through: number) => Effect.Effect<void, StoreError>
  }
>()("codexd/Store") {
  static readonly layer = (
    options: StoreOptions = { readOnly: false },
  ): Layer.Layer<Store, StoreError, CodexdConfig> =>
    Layer.effect(
      Store,
      Effect.gen(function* () {
        const config = yield* CodexdConfig
        const openedAtMs = yield* Clock.currentTimeMillis
        const opened = yield* Effect.acquireRelease(
          Effect.tryPromise({
            try: () => openStore(config, options, openedAtMs),
            catch: (cause) =>
              cause instanceof StoreError ? cause : storeError(config.paths.stateDir, "open", cause),
          }),
          // A snapshot that cannot be written at close leaves the journal, which the next open replays.
          ({ close }) => Effect.promise(() => close().catch(() => undefined)),
        )
        return opened.store
      }),
    )
}

const storeError = (path: string, operation: string, cause: unknown): StoreError =>
  new StoreError({ path, operation, reason: cause instanceof Error ? cause.message : String(cause) })

const persist = (
  path: string,
  operation: string,
  write: () => Promise<void>,
): Effect.Effect<void, StoreError> =>
  Effect.tryPromise({ try: write, catch: (cause) => storeError(path, operation, cause) })

const encodeJson = <A>(schema: Schema.Codec<A, unknown>, value: A): string =>
  `${JSON.stringify(Schema.encodeSync(schema)(value), null, 1)}\n`

/** Remove temp files a killed writer left behind; they never hold the only copy of anything. */
const removeStaleTempFiles = async (paths: ReadonlyArray<string>): Promise<void> => {
  const dir = dirname(paths[0] ?? ".")
  const names = new Set(paths.map((p) => basename(p)))
  for (const entry of await readdir(dir)) {
    const match = /^\.(.+)\.\d+\.\d+\.tmp$/.exec(entry)
    if (match?.[1] !== undefined && names.has(match[1])) await rm(`${dir}/${entry}`, { force: true })
  }
}

const openStore = async (
  config: ResolvedConfig,
  options: StoreOptions,
  openedAtMs: number,
): Promise<{ readonly store: Store["Service"]; readonly close: () => Promise<void> }> => {
  const paths = config.paths
  const eventSeqPath = `${paths.stateDir}/event-seq.json`
  const corruptFiles: Array<CorruptFileReport> = []

  if (!options.readOnly) {
    ensurePrivateDir(paths.stateDir, [paths.stateRootDir])
    await removeStaleTempFiles([
      paths.identityPath,
      paths.daemonStatePath,
      paths.sessionRegistryPath,
      paths.runRegistryPath,
      paths.approvalRegistryPath,
      paths.recentEventsPath,
      eventSeqPath,
    ])
  }

  /** Read and decode one file; missing → null; corrupt → moved aside (unless read-only), reported, null. */
  const load = async <A>(path: string, schema: Schema.Codec<A, unknown>): Promise<A | null> => {
    const text = await readTextIfExists(path)
    if (text === null) return null
    const decoded = decodeJsonText(schema, path)(text)
    if (Result.isSuccess(decoded)) return decoded.success
    const movedTo = options.readOnly ? null : await moveAside(path, new Date(openedAtMs))
    corruptFiles.push({ path, movedTo, reason: decoded.failure.message })
    return null
  }

  let identity = await load(paths.identityPath, DaemonIdentity)
  if (identity === null && !options.readOnly) {
    identity = {
      daemonId: newDaemonId(),
      nodeId: config.nodeId,
      repoRoot: paths.repoRoot,
      createdAt: new Date(openedAtMs).toISOString(),
      version: config.version,
    }
    await writeFileAtomic(paths.identityPath, encodeJson(DaemonIdentity, identity))
  }

  let daemonState = await load(paths.daemonStatePath, DaemonState)
  const storedSessions = await load(paths.sessionRegistryPath, SessionRegistrySnapshot)
  const sessions = await JournaledRegistry.open({
    paths: { snapshotPath: paths.sessionRegistryPath, journalPath: paths.sessionJournalPath },
    shape: sessionRegistryShape,
    snapshot:
      storedSessions === null
        ? null
        : {
            updatedAt: storedSessions.updatedAt,
            journalSeq: storedSessions.journalSeq ?? 0,
            records: storedSessions.sessions,
          },
    readOnly: options.readOnly,
    openedAt: new Date(openedAtMs),
    report: (problem) => corruptFiles.push(problem),
  })
  let approvals = (await load(paths.approvalRegistryPath, ApprovalRegistryState)) ?? emptyApprovalRegistry
  let eventCache =
    (await load(paths.recentEventsPath, RecentEventCacheState)) ?? emptyEventCache(config.eventCacheSize)
  let eventSeqReservedThrough = (await load(eventSeqPath, EventSeqReservation))?.reservedThrough ?? 0
  const archive = await RunArchive.open(paths.runArchivePath, options)
  for (const report of archive.skippedLines) corruptFiles.push(report)
  const runs = await RunRegistryFile.open({
    paths: { snapshotPath: paths.runRegistryPath, journalPath: paths.runJournalPath },
    snapshot: await load(paths.runRegistryPath, RunRegistrySnapshot),
    archive,
    retention: config.runRetention,
    readOnly: options.readOnly,
    openedAt: new Date(openedAtMs),
    report: (problem) => corruptFiles.push(problem),
  })

  const daemonWriter = new CoalescingWriter(paths.daemonStatePath)
  const approvalsWriter = new CoalescingWriter(paths.approvalRegistryPath)
  const eventsWriter = new CoalescingWriter(paths.recentEventsPath)
  const seqWriter = new CoalescingWriter(eventSeqPath)

  const refuseReadOnly = (path: string): Effect.Effect<never, StoreError> =>
    Effect.fail(new StoreError({ path, operation: "write", reason: "the store was opened read-only" }))

  /** Puts and read-modify-write updates of one journaled table, refused when read-only. */
  const journaled = <R>(
    snapshotPath: string,
    journalPath: string,
    table: {
      readonly get: (id: string) => R | undefined
      readonly put: (records: ReadonlyArray<R>, now: string) => Promise<void>
    },
  ) => {
    const put = (records: ReadonlyArray<R>): Effect.Effect<void, StoreError> =>
      Effect.flatMap(nowIso, (now) =>
        options.readOnly
          ? refuseReadOnly(snapshotPath)
          : persist(journalPath, "write", () => table.put(records, now)),
      )
    // `f` sees the record as stored now: nothing can change it between the read and the write.
    const update = (id: string, f: (record: R) => R): Effect.Effect<R | null, StoreError> =>
      Effect.suspend(() => {
        const stored = table.get(id)
        if (stored === undefined)
          return options.readOnly ? refuseReadOnly(snapshotPath) : Effect.succeed(null)
        const next = f(stored)
        return Effect.as(put([next]), next)
      })
    return { put, update }
  }
  const runTable = journaled(paths.runRegistryPath, paths.runJournalPath, runs)
  const sessionTable = journaled(paths.sessionRegistryPath, paths.sessionJournalPath, {
    get: (id) => sessions.get(id),
    put: (records, now) => sessions.change({ put: records }, now),
  })

  const store: Store["Service"] = {
    identity,
    corruptFiles,
    daemonState: Effect.sync(() => daemonState),
    updateDaemonState: (f) =>
      Effect.flatMap(nowIso, (now) => {
        if (options.readOnly) return refuseReadOnly(paths.daemonStatePath)
        const next = { ...f(daemonState), updatedAt: now }
        daemonState = next
        return persist(paths.daemonStatePath, "write", () =>
          daemonWriter.save(() => encodeJson(DaemonState, daemonState as DaemonState)),
        ).pipe(Effect.as(next))
      }),
    sessions: Effect.sync(() => ({ updatedAt: sessions.lastUpdatedAt, sessions: sessions.values })),
    putSessions: (records) => sessionTable.put(records),
    updateSession: (sessionId, f) => sessionTable.update(sessionId, f),
    approvals: Effect.sync(() => approvals),
    updateApprovals: (f) =>
      Effect.flatMap(nowIso, (now) => {
        if (options.readOnly) return refuseReadOnly(paths.approvalRegistryPath)
        approvals = { ...f(approvals), updatedAt: now }
        const snapshot = approvals
        return persist(paths.approvalRegistryPath, "write", () =>
          approvalsWriter.save(() => encodeJson(ApprovalRegistryState, approvals)),
        ).pipe(Effect.as(snapshot))
      }),
    runs: Effect.sync(() => runs.state),
    putRuns: (records) => runTable.put(records),
    updateRun: (runId, f) => runTable.update(runId, f),
    findRun: (runId) =>
      Effect.suspend(() => {
        const live = runs.get(runId)
        if (live !== undefined) return Effect.succeed(live)
        return Effect.tryPromise({
          try: () => archive.find(runId),
          catch: (cause) => storeError(paths.runArchivePath, "read", cause),
        })
      }),
    eventCache: Effect.sync(() => eventCache),
    saveEventCache: (cache) =>
      Effect.suspend(() => {
        if (options.readOnly) return refuseReadOnly(paths.recentEventsPath)
        eventCache = cache
        return persist(paths.recentEventsPath, "write", () =>
          // Written often (a save per burst of events) and its schema has no transformations: plain
          // JSON, one line, as the registries are (a test holds the premise), made of the JSON each
          // event already has.
          eventsWriter.save(() => `${eventCacheJson(eventCache)}\n`),
        )
      }),
    get eventSeqReservedThrough() {
      return eventSeqReservedThrough
    },
    reserveEventSeq: (through) =>
      Effect.suspend(() => {
        if (options.readOnly) return refuseReadOnly(eventSeqPath)
        eventSeqReservedThrough = Math.max(eventSeqReservedThrough, through)
        return persist(eventSeqPath, "write", () =>
          seqWriter.save(() => encodeJson(EventSeqReservation, { reservedThrough: eventSeqReservedThrough })),
        )
      }),
  }
  return { store, close: async () => void (await Promise.all([runs.close(), sessions.close()])) }
}
