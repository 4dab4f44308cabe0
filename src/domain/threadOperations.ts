/**
 * Operations on a session's thread beyond a prompt: a review (`review/start`) and a compaction
 * (`thread/compact/start`) run as turns of the thread, so they are runs (queued behind the session's
 * other turns, with a result); a fork and a revert change which history a session is on. The shapes
 * of the review target are codex's own.
 */
import * as Schema from "effect/Schema"
import { RunId } from "./ids.ts"

/** What a review looks at: the working tree's uncommitted changes, a commit, a branch, or free instructions. */
export const ReviewTarget = Schema.Union([
  Schema.Struct({ type: Schema.Literal("uncommittedChanges") }),
  Schema.Struct({
    type: Schema.Literal("commit"),
    sha: Schema.NonEmptyString,
    title: Schema.optionalKey(Schema.NullOr(Schema.String)),
  }),
  Schema.Struct({ type: Schema.Literal("baseBranch"), branch: Schema.NonEmptyString }),
  Schema.Struct({ type: Schema.Literal("custom"), instructions: Schema.NonEmptyString }),
])
export type ReviewTarget = typeof ReviewTarget.Type

/** A run that is not a prompt: what its turn is started with instead of `turn/start`. */
export const RunOperation = Schema.Union([
  Schema.Struct({ type: Schema.Literal("review"), target: ReviewTarget }),
  Schema.Struct({ type: Schema.Literal("compact") }),
])
export type RunOperation = typeof RunOperation.Type

/** A line saying what an operation run does, kept as its prompt. */
export const describeOperation = (operation: RunOperation): string => {
  if (operation.type === "compact") return "compact the thread"
  const { target } = operation
  switch (target.type) {
    case "uncommittedChanges":
      return "review the uncommitted changes"
    case "commit":
      return `review commit ${target.sha}`
    case "baseBranch":
      return `review the changes against ${target.branch}`
    case "custom":
      return `review: ${target.instructions}`
  }
}

export const ForkSessionBody = Schema.Struct({
  /** Fork through this run's turn (its later turns are left out); absent: the whole thread. */
  runId: Schema.optionalKey(Schema.NullOr(RunId)),
})

export const RevertSessionBody = Schema.Struct({
  /** The session goes back to before this run's turn: it and every later turn leave the history. */
  runId: RunId,
})

export const ReviewBody = Schema.Struct({ target: ReviewTarget })
