/**
 * The run registry on disk: a snapshot (`runs.json`, the registry as it was at one journal seq) and a
 * journal of the changes since (`runs.journal.jsonl`, one line per change: the records put and the
 * ids that left for the archive). A change costs one appended line in a group commit instead of a
 * rewrite of the whole registry; the snapshot is rewritten once the journal has grown to its size, so
 * the cost per change stays flat whatever the registry holds.
 *
 * Reading (the daemon at start, `codexd status` with no daemon) is the snapshot, then every journal
 * line above its seq, in order. A torn last line is a change that was never acknowledged and is
 * ignored; any other line that fails to decode is reported (and the journal moved aside when writable).
 * After a clean close the journal is empty and `runs.json` alone is the registry.
 *
 * The registry keeps unfinished runs and the newest `retention` finished ones; older finished runs go
 * to the archive, durably, before the line that drops them is written.
 */
import { rename } from "node:fs/promises"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { decodeJsonText } from "../../domain/decode.ts"
import type { RunId } from "../../domain/ids.ts"
import { isFinished, RunRecord, RunRegistryState } from "../../domain/run.ts"
import { readTextIfExists, writeFileAtomic } from "./atomicFile.ts"
import { GroupCommitJournal } from "./groupCommitJournal.ts"
import type { RunArchive } from "./runArchive.ts"
import { applyRetention } from "./runRetention.ts"

export const RunRegistrySnapshot = Schema.Struct({
  ...RunRegistryState.fields,
  /** The last journal line this snapshot holds; lines up to it are skipped on replay. */
  journalSeq: Schema.optional(Schema.Int),
})
export type RunRegistrySnapshot = typeof RunRegistrySnapshot.Type

const JournalLine = Schema.Struct({
  seq: Schema.Int,
  updatedAt: Schema.String,
  put: Schema.Array(RunRecord),
  drop: Schema.Array(Schema.String),
})
type JournalLine = typeof JournalLine.Type

/** Below this the journal is not worth compacting, however small the snapshot. */
const MIN_COMPACTION_BYTES = 1024 * 1024

export interface RunRegistryPaths {
  readonly snapshotPath: string
  readonly journalPath: string
}

export interface JournalProblem {
  readonly path: string
  readonly movedTo: string | null
  readonly reason: string
}

/**
 * The snapshot's schema has no transformations (its encoded form is the value itself), so it is
 * written with plain JSON.stringify: a third of the cost of encoding through the schema. A test holds
 * the premise.
 */
const encodeSnapshot = (snapshot: RunRegistrySnapshot): string => `${JSON.stringify(snapshot)}\n`

export class RunRegistryFile {
  private readonly records = new Map<string, RunRecord>()
  private listed: ReadonlyArray<RunRecord> | null = null
  /** Ids of the finished runs in the registry, oldest finish first: the next to leave for the archive. */
  private finishedOrder: Array<string> = []
  private updatedAt: string | null = null
  private seq = 0
  private snapshotBytes = 0
  private journal: GroupCommitJournal | null = null
  private readonly paths: RunRegistryPaths
  private readonly archive: RunArchive
  private readonly retention: number

  private constructor(paths: RunRegistryPaths, archive: RunArchive, retention: number) {
    this.paths = paths
    this.archive = archive
    this.retention = retention
  }

  /**
   * The registry from `snapshot` (already read and decoded by the Store, or null) and the journal.
   * Writable, it starts from a fresh snapshot whenever the journal held anything.
   */
  static async open(input: {
    readonly paths: RunRegistryPaths
    readonly snapshot: RunRegistrySnapshot | null
    readonly archive: RunArchive
    readonly retention: number
    readonly readOnly: boolean
    readonly openedAt: Date
    readonly report: (problem: JournalProblem) => void
  }): Promise<RunRegistryFile> {
    const registry = new RunRegistryFile(input.paths, input.archive, input.retention)
    const snapshot = input.snapshot
    registry.updatedAt = snapshot?.updatedAt ?? null
    registry.seq = snapshot?.journalSeq ?? 0
    for (const run of snapshot?.runs ?? []) registry.records.set(run.runId, run)

    const journalPath = input.paths.journalPath
    const text = (await readTextIfExists(journalPath)) ?? ""
    const problems = registry.replay(text)
    const movedTo =
      input.readOnly || problems.length === 0 ? null : `${journalPath}.corrupt-${stamp(input.openedAt)}`
    for (const reason of problems) input.report({ path: journalPath, movedTo, reason })

    const { kept, archived } = applyRetention([...registry.records.values()], input.retention)
    for (const run of archived) registry.records.delete(run.runId)
    registry.finishedOrder = orderOfFinish(kept)
    if (input.readOnly) return registry

    if (archived.length > 0) await input.archive.append(archived)
    // The evidence is kept; what could be read of it is in the registry and goes into the snapshot.
    if (movedTo !== null) await rename(journalPath, movedTo)
    registry.journal = await GroupCommitJournal.open(journalPath, {
      shouldCompact: (bytes) => bytes >= Math.max(MIN_COMPACTION_BYTES, registry.snapshotBytes),
      compact: () => registry.writeSnapshot(),
    })
    if (text !== "" || archived.length > 0) await registry.journal.compactNow()
    return registry
  }

  get state(): RunRegistryState {
    this.listed ??= [...this.records.values()]
    return { updatedAt: this.updatedAt, runs: this.listed }
  }

  get(runId: RunId): RunRecord | undefined {
    return this.records.get(runId)
  }

  /** How many fsynced journal writes were made (group commit: fewer than the changes). */
  get commitCount(): number {
    return this.journal?.commitCount ?? 0
  }

  /**
   * Insert or replace `runs` now (readers see them at once) and resolve once the change is durable.
   * Finished runs past the retention leave for the archive in the same change.
   */
  put(runs: ReadonlyArray<RunRecord>, now: string): Promise<void> {
    const journal = this.journal
    if (journal === null) return Promise.reject(new Error("the run registry is read-only or closed"))
    for (const run of runs) this.set(run)
    const leaving: Array<RunRecord> = []
    while (this.finishedOrder.length > this.retention) {
      const runId = this.finishedOrder.shift() as string
      const run = this.records.get(runId)
      if (run === undefined) continue
      this.records.delete(runId)
      leaving.push(run)
    }
    this.updatedAt = now
    this.listed = null
    this.seq += 1
    const line: JournalLine = { seq: this.seq, updatedAt: now, put: runs, drop: leaving.map((r) => r.runId) }
    const archived = leaving.length === 0 ? undefined : this.archive.append(leaving)
    return journal.append(`${JSON.stringify(line)}\n`, archived)
  }

  /** Write a whole snapshot now and empty the journal: after it, `runs.json` alone is the registry. */
  async close(): Promise<void> {
    const journal = this.journal
    if (journal === null) return
    this.journal = null
    await journal.compactNow()
    await journal.close()
  }

  private set(run: RunRecord): void {
    const before = this.records.get(run.runId)
    this.records.set(run.runId, run)
    const wasFinished = before !== undefined && isFinished(before)
    if (isFinished(run) && !wasFinished) this.finishedOrder.push(run.runId)
    else if (!isFinished(run) && wasFinished)
      this.finishedOrder = this.finishedOrder.filter((id) => id !== run.runId)
  }

  /** Apply the journal's lines above the snapshot's seq; the problems found, one reason each. */
  private replay(text: string): Array<string> {
    const problems: Array<string> = []
    const lines = text.split("\n")
    lines.forEach((line, index) => {
      if (line.trim() === "") return
      const decoded = decodeJsonText(JournalLine, `${this.paths.journalPath}:${index + 1}`)(line)
      if (Result.isFailure(decoded)) {
        // The last line without its newline is a write cut short: a change never acknowledged.
        if (index < lines.length - 1) problems.push(decoded.failure.message)
        return
      }
      const change = decoded.success
      if (change.seq <= this.seq) return
      this.seq = change.seq
      this.updatedAt = change.updatedAt
      for (const run of change.put) this.records.set(run.runId, run)
      for (const runId of change.drop) this.records.delete(runId)
    })
    return problems
  }

  /** Waits for the archive appends the registry's drops depend on, then writes what memory holds. */
  private async writeSnapshot(): Promise<void> {
    for (;;) {
      const appending = this.archive.appendsInFlight
      await appending
      // Checked and encoded in one synchronous step: no drop can slip in between.
      if (appending === this.archive.appendsInFlight) break
    }
    const text = encodeSnapshot({ updatedAt: this.updatedAt, journalSeq: this.seq, runs: this.state.runs })
    await writeFileAtomic(this.paths.snapshotPath, text)
    this.snapshotBytes = text.length
  }
}

const stamp = (date: Date): string => date.toISOString().replaceAll(":", "-")

/** Finished runs' ids, oldest finish first (the retention rule's order). */
const orderOfFinish = (runs: ReadonlyArray<RunRecord>): Array<string> =>
  runs
    .filter(isFinished)
    .sort((a, b) => (a.finishedAt ?? a.updatedAt).localeCompare(b.finishedAt ?? b.updatedAt))
    .map((run) => run.runId)
