/**
 * Token usage added up: per run as codex counted its turn, per session and for the daemon, over the
 * runs in the registry (archived runs are counted where they are kept, not here).
 */
import * as Schema from "effect/Schema"
import { NonNegativeInt } from "./json.ts"
import type { RunRecord } from "./run.ts"

export const UsageTotals = Schema.Struct({
  /** Tokens of every run in the registry. */
  tokens: NonNegativeInt,
  /** Tokens by session id, for the sessions whose runs used any. */
  sessions: Schema.Record(Schema.String, NonNegativeInt),
})
export type UsageTotals = typeof UsageTotals.Type

/** A turn's token count from codex's usage record (`last` is the turn's own, `total` the thread's). */
export const turnTokens = (usage: Readonly<Record<string, unknown>> | null): number => {
  const breakdown = (usage?.last ?? usage?.total) as { totalTokens?: unknown } | undefined
  return typeof breakdown?.totalTokens === "number" ? breakdown.totalTokens : 0
}

export const usageTotals = (runs: ReadonlyArray<RunRecord>): UsageTotals => {
  let tokens = 0
  const sessions: Record<string, number> = {}
  for (const run of runs) {
    const used = turnTokens(run.result?.tokenUsage ?? null)
    if (used === 0) continue
    tokens += used
    if (run.sessionId !== null) sessions[run.sessionId] = (sessions[run.sessionId] ?? 0) + used
  }
  return { tokens, sessions }
}
