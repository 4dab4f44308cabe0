/**
 * A registry of records by id, on disk as a snapshot (e.g. `runs.json`: the records as they were at
 * one journal seq) and a journal of the changes since (e.g. `runs.journal.jsonl`: one line per change,
 * the records put and the ids dropped). A change costs one appended line in a group commit instead of
 * a rewrite of the whole file; the snapshot is rewritten once the journal has grown to its size, so
 * the cost per change stays flat whatever the registry holds.
 *
 * Reading (the daemon at start, `codexd status` with no daemon) is the snapshot, then every journal
 * line above its seq, in order. A torn last line is a change that was never acknowledged and is
 * ignored; any other line that fails to decode is reported (and the journal moved aside when writable).
 * After a clean close the journal is empty and the snapshot alone is the registry.
 */
import { rename } from "node:fs/promises"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { decodeJsonText } from "../../domain/decode.ts"
import { readTextIfExists, writeFileAtomic } from "./atomicFile.ts"
import { GroupCommitJournal } from "./groupCommitJournal.ts"

/** Below this the journal is not worth compacting, however small the snapshot. */
const MIN_COMPACTION_BYTES = 1024 * 1024

export interface RegistryPaths {
  readonly snapshotPath: string
  readonly journalPath: string
}

export interface JournalProblem {
  readonly path: string
  readonly movedTo: string | null
  readonly reason: string
}

/** What the snapshot file holds, whatever its field for the records is called. */
export interface RegistrySnapshot<R> {
  readonly updatedAt: string | null
  /** The last journal line the snapshot holds; lines up to it are skipped on replay. */
  readonly journalSeq: number
  readonly records: ReadonlyArray<R>
}

/** The snapshot file's schema: the registry state's own fields and the journal seq it holds. */
export const snapshotSchema = <F extends Schema.Struct.Fields>(state: Schema.Struct<F>) =>
  Schema.Struct({ ...state.fields, journalSeq: Schema.optional(Schema.Int) })

export interface RegistryShape<R> {
  readonly record: Schema.Codec<R, unknown>
  readonly idOf: (record: R) => string
  /**
   * The snapshot file's text. Registry schemas have no transformations (their encoded form is the
   * value itself), so this is plain JSON.stringify: a third of the cost of encoding through the
   * schema. A test holds the premise.
   */
  readonly encodeSnapshot: (snapshot: RegistrySnapshot<R>) => string
}

export interface OpenRegistryInput<R> {
  readonly paths: RegistryPaths
  readonly shape: RegistryShape<R>
  readonly snapshot: RegistrySnapshot<R> | null
  readonly readOnly: boolean
  readonly openedAt: Date
  readonly report: (problem: JournalProblem) => void
}

interface JournalLine<R> {
  readonly seq: number
  readonly updatedAt: string
  readonly put: ReadonlyArray<R>
  readonly drop: ReadonlyArray<string>
}

export class JournaledRegistry<R> {
  private readonly records = new Map<string, R>()
  private listed: ReadonlyArray<R> | null = null
  private updatedAt: string | null = null
  private seq = 0
  private snapshotBytes = 0
  private journal: GroupCommitJournal | null = null
  /** What must be durable before a snapshot may leave out what was dropped (e.g. archive appends). */
  private dropsSettled: () => Promise<void> = () => settled
  private readonly paths: RegistryPaths
  private readonly shape: RegistryShape<R>

  private constructor(paths: RegistryPaths, shape: RegistryShape<R>) {
    this.paths = paths
    this.shape = shape
  }

  /**
   * The registry as the files hold it. `prepare` may drop records before the registry starts to write
   * (retention); writable, it starts from a fresh snapshot whenever the journal held anything.
   */
  static async open<R>(
    input: OpenRegistryInput<R>,
    prepare: (registry: JournaledRegistry<R>) => Promise<boolean> = async () => false,
  ): Promise<JournaledRegistry<R>> {
    const registry = new JournaledRegistry(input.paths, input.shape)
    const snapshot = input.snapshot
    registry.updatedAt = snapshot?.updatedAt ?? null
    registry.seq = snapshot?.journalSeq ?? 0
    for (const record of snapshot?.records ?? []) registry.records.set(input.shape.idOf(record), record)

    const journalPath = input.paths.journalPath
    const text = (await readTextIfExists(journalPath)) ?? ""
    const problems = registry.replay(text)
    const movedTo =
      input.readOnly || problems.length === 0 ? null : `${journalPath}.corrupt-${stamp(input.openedAt)}`
    for (const reason of problems) input.report({ path: journalPath, movedTo, reason })
    const changed = await prepare(registry)
    if (input.readOnly) return registry

    // The evidence is kept; what could be read of it is in the registry and goes into the snapshot.
    if (movedTo !== null) await rename(journalPath, movedTo)
    registry.journal = await GroupCommitJournal.open(journalPath, {
      shouldCompact: (bytes) => bytes >= Math.max(MIN_COMPACTION_BYTES, registry.snapshotBytes),
      compact: () => registry.writeSnapshot(),
    })
    if (text !== "" || changed) await registry.journal.compactNow()
    return registry
  }

  get values(): ReadonlyArray<R> {
    this.listed ??= [...this.records.values()]
    return this.listed
  }

  get lastUpdatedAt(): string | null {
    return this.updatedAt
  }

  get(id: string): R | undefined {
    return this.records.get(id)
  }

  /** How many fsynced journal writes were made (group commit: fewer than the changes). */
  get commitCount(): number {
    return this.journal?.commitCount ?? 0
  }

  /** Drop records from memory only, before the registry writes (for `open`'s `prepare`). */
  forget(ids: Iterable<string>): void {
    for (const id of ids) this.records.delete(id)
    this.listed = null
  }

  /**
   * Snapshots wait for `settled()` to stop changing before they leave out dropped records: it must
   * return the same promise until new work starts.
   */
  waitBeforeSnapshots(settled: () => Promise<void>): void {
    this.dropsSettled = settled
  }

  /**
   * Insert or replace `put` and remove `drop` now (readers see it at once); resolves once the change
   * is durable. `after` must be durable before the change may be (e.g. the archive a drop moves to).
   */
  change(
    change: { readonly put: ReadonlyArray<R>; readonly drop?: ReadonlyArray<string> },
    now: string,
    after?: Promise<void>,
  ): Promise<void> {
    const journal = this.journal
    if (journal === null)
      return Promise.reject(new Error(`${this.paths.snapshotPath} is read-only or closed`))
    const drop = change.drop ?? []
    for (const record of change.put) this.records.set(this.shape.idOf(record), record)
    for (const id of drop) this.records.delete(id)
    this.updatedAt = now
    this.listed = null
    this.seq += 1
    const line: JournalLine<R> = { seq: this.seq, updatedAt: now, put: change.put, drop }
    return journal.append(`${JSON.stringify(line)}\n`, after)
  }

  /** Write a whole snapshot now and empty the journal: after it, the snapshot alone is the registry. */
  async close(): Promise<void> {
    const journal = this.journal
    if (journal === null) return
    this.journal = null
    await journal.compactNow()
    await journal.close()
  }

  /** Apply the journal's lines above the snapshot's seq; the problems found, one reason each. */
  private replay(text: string): Array<string> {
    const problems: Array<string> = []
    const schema = Schema.Struct({
      seq: Schema.Int,
      updatedAt: Schema.String,
      put: Schema.Array(this.shape.record),
      drop: Schema.Array(Schema.String),
    })
    const lines = text.split("\n")
    lines.forEach((line, index) => {
      if (line.trim() === "") return
      const decoded = decodeJsonText(schema, `${this.paths.journalPath}:${index + 1}`)(line)
      if (Result.isFailure(decoded)) {
        // The last line without its newline is a write cut short: a change never acknowledged.
        if (index < lines.length - 1) problems.push(decoded.failure.message)
        return
      }
      const change = decoded.success as JournalLine<R>
      if (change.seq <= this.seq) return
      this.seq = change.seq
      this.updatedAt = change.updatedAt
      for (const record of change.put) this.records.set(this.shape.idOf(record), record)
      for (const id of change.drop) this.records.delete(id)
    })
    this.listed = null
    return problems
  }

  private async writeSnapshot(): Promise<void> {
    for (;;) {
      const settling = this.dropsSettled()
      await settling
      // Checked and encoded in one synchronous step: no drop can slip in between.
      if (settling === this.dropsSettled()) break
    }
    const text = this.shape.encodeSnapshot({
      updatedAt: this.updatedAt,
      journalSeq: this.seq,
      records: this.values,
    })
    await writeFileAtomic(this.paths.snapshotPath, text)
    this.snapshotBytes = text.length
  }
}

const settled: Promise<void> = Promise.resolve()

const stamp = (date: Date): string => date.toISOString().replaceAll(":", "-")
