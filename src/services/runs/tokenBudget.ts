/**
 * A run's token budget (`maxTokens`, the run's own or its session's): how many tokens its turn has
 * used, from codex's `thread/tokenUsage/updated`, and the failure once it used more. codex reports
 * the thread's running total (`total`) and the last request's (`last`); the turn's use is the total
 * now less the total before its first request, so updates repeated for one request count once.
 */
import type { AppServerEvent } from "../../domain/appServer/events.ts"
import type { RunFailure } from "../../domain/run.ts"

const totalTokens = (breakdown: unknown): number | null => {
  const value = (breakdown as { totalTokens?: unknown } | null | undefined)?.totalTokens
  return typeof value === "number" && Number.isFinite(value) ? value : null
}

export class TokenBudget {
  private before: number | null = null
  private spent = false
  private readonly limit: number

  constructor(limit: number) {
    this.limit = limit
  }

  /** The failure the first time the turn's use passes the limit; null otherwise. */
  exceededBy(event: AppServerEvent): RunFailure | null {
    if (event.type !== "thread.tokenUsage.updated" || this.spent) return null
    const total = totalTokens(event.tokenUsage.total)
    if (total === null) return null
    this.before ??= total - (totalTokens(event.tokenUsage.last) ?? 0)
    const used = total - this.before
    if (used <= this.limit) return null
    this.spent = true
    return {
      code: "budget-exceeded",
      message: `the run used ${used} tokens, more than its budget of ${this.limit}`,
    }
  }
}

/** The budget a run goes by: its own, else its session's; null when neither sets one. */
export const budgetOf = (
  run: { readonly options?: { readonly maxTokens?: number | null } },
  session: { readonly maxTokens?: number | null },
): TokenBudget | null => {
  const limit = run.options?.maxTokens ?? session.maxTokens ?? null
  return limit === null ? null : new TokenBudget(limit)
}
