/**
 * The run registry's retention rule, pure: keep every unfinished run and the newest `limit` finished
 * ones; the older finished runs go to the archive. Registry order is preserved for what stays.
 */
import { isFinished, type RunRecord } from "../../domain/run.ts"

export interface RetentionSplit {
  readonly kept: ReadonlyArray<RunRecord>
  /** Oldest first, the order they are appended to the archive. */
  readonly archived: ReadonlyArray<RunRecord>
}

const finishedAtOf = (run: RunRecord): string => run.finishedAt ?? run.updatedAt

/** The finished runs among `runs`, oldest finish first: the order they leave for the archive. */
export const finishedOldestFirst = (runs: ReadonlyArray<RunRecord>): Array<RunRecord> =>
  runs.filter(isFinished).sort((a, b) => finishedAtOf(a).localeCompare(finishedAtOf(b)))

export const applyRetention = (runs: ReadonlyArray<RunRecord>, limit: number): RetentionSplit => {
  const oldestFirst = finishedOldestFirst(runs)
  if (oldestFirst.length <= limit) return { kept: runs, archived: [] }
  const archived = oldestFirst.slice(0, oldestFirst.length - limit)
  const leaving = new Set(archived.map((run) => run.runId))
  return { kept: runs.filter((run) => !leaving.has(run.runId)), archived }
}
