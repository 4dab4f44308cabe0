/**
 * The run registry: a journaled registry (`runs.json` and `runs.journal.jsonl`) that keeps unfinished
 * runs and the newest `retention` finished ones. Older finished runs go to the archive, durably,
 * before the journal line that drops them is written, and before any snapshot leaves them out.
 */
import { isFinished, RunRecord, RunRegistryState } from "../../domain/run.ts"
import {
  JournaledRegistry,
  type JournalProblem,
  type RegistryPaths,
  type RegistryShape,
  snapshotSchema,
} from "./journaledRegistry.ts"
import type { RunArchive } from "./runArchive.ts"
import { applyRetention, finishedOldestFirst } from "./runRetention.ts"

export const RunRegistrySnapshot = snapshotSchema(RunRegistryState)
export type RunRegistrySnapshot = typeof RunRegistrySnapshot.Type

const shape: RegistryShape<RunRecord> = {
  record: RunRecord,
  idOf: (run) => run.runId,
  encodeSnapshot: ({ updatedAt, journalSeq, records }) =>
    `${JSON.stringify({ updatedAt, journalSeq, runs: records })}\n`,
}

export class RunRegistryFile {
  /** Ids of the finished runs in the registry, oldest finish first: the next to leave for the archive. */
  private finishedOrder: Array<string> = []
  private readonly registry: JournaledRegistry<RunRecord>
  private readonly archive: RunArchive
  private readonly retention: number

  private constructor(registry: JournaledRegistry<RunRecord>, archive: RunArchive, retention: number) {
    this.registry = registry
    this.archive = archive
    this.retention = retention
  }

  static async open(input: {
    readonly paths: RegistryPaths
    readonly snapshot: RunRegistrySnapshot | null
    readonly archive: RunArchive
    readonly retention: number
    readonly readOnly: boolean
    readonly openedAt: Date
    readonly report: (problem: JournalProblem) => void
  }): Promise<RunRegistryFile> {
    const { snapshot, archive } = input
    let finishedOrder: Array<string> = []
    const registry = await JournaledRegistry.open(
      {
        paths: input.paths,
        shape,
        snapshot:
          snapshot === null
            ? null
            : { updatedAt: snapshot.updatedAt, journalSeq: snapshot.journalSeq ?? 0, records: snapshot.runs },
        readOnly: input.readOnly,
        openedAt: input.openedAt,
        report: input.report,
      },
      // A registry over its retention (the limit was lowered, or a crash came between) is trimmed first.
      async (opened) => {
        const { kept, archived } = applyRetention(opened.values, input.retention)
        opened.forget(archived.map((run) => run.runId))
        finishedOrder = finishedOldestFirst(kept).map((run) => run.runId)
        if (archived.length === 0 || input.readOnly) return false
        await archive.append(archived)
        return true
      },
    )
    registry.waitBeforeSnapshots(() => archive.appendsInFlight)
    const file = new RunRegistryFile(registry, archive, input.retention)
    file.finishedOrder = finishedOrder
    return file
  }

  get state(): RunRegistryState {
    return { updatedAt: this.registry.lastUpdatedAt, runs: this.registry.values }
  }

  get(runId: string): RunRecord | undefined {
    return this.registry.get(runId)
  }

  get commitCount(): number {
    return this.registry.commitCount
  }

  /**
   * Insert or replace `runs` now (readers see them at once) and resolve once the change is durable.
   * Finished runs past the retention leave for the archive in the same change.
   */
  put(runs: ReadonlyArray<RunRecord>, now: string): Promise<void> {
    for (const run of runs) this.trackFinish(run)
    const leaving: Array<RunRecord> = []
    while (this.finishedOrder.length > this.retention) {
      const runId = this.finishedOrder.shift() as string
      const run = runs.find((r) => r.runId === runId) ?? this.registry.get(runId)
      if (run !== undefined) leaving.push(run)
    }
    const archived = leaving.length === 0 ? undefined : this.archive.append(leaving)
    return this.registry.change({ put: runs, drop: leaving.map((run) => run.runId) }, now, archived)
  }

  close(): Promise<void> {
    return this.registry.close()
  }

  private trackFinish(run: RunRecord): void {
    const before = this.registry.get(run.runId)
    const wasFinished = before !== undefined && isFinished(before)
    if (isFinished(run) && !wasFinished) this.finishedOrder.push(run.runId)
    else if (!isFinished(run) && wasFinished)
      this.finishedOrder = this.finishedOrder.filter((id) => id !== run.runId)
  }
}
