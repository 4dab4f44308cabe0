/**
 * The runMachine's vocabulary: its input, context and events, and how a turn's outcome becomes a run's
 * failure (or none). Pure, beside the machine so the machine file holds only states and transitions.
 */

import type { RunFailure } from "../domain/run.ts"

export type { RunErrorCode, RunFailure } from "../domain/run.ts"

export interface RunMachineInput {
  readonly runId: string
  readonly prompt: string
}

export interface RunMachineContext {
  readonly runId: string
  readonly prompt: string
  readonly turnId: string | null
  /** Why the run is being interrupted, when codexd interrupts it (stall, approval deadline, request). */
  readonly interruptReason: RunFailure | null
  readonly failure: RunFailure | null
  readonly turnStatus: string | null
  /** The thread went idle while turn/start was still unanswered (a turn can finish that fast). */
  readonly idleWhileStarting: boolean
}

/** The outcome of a turn, from `turn/completed` or from `thread/read` when reconciling. */
export interface TurnOutcome {
  readonly status: "completed" | "interrupted" | "failed" | "inProgress"
  readonly errorMessage: string | null
  readonly codexErrorInfo?: unknown
}

export type RunMachineEvent =
  | { readonly type: "SCHEDULED" }
  | { readonly type: "STEER"; readonly text: string }
  /** With a reason when codexd interrupts the turn itself (a token budget passed). */
  | { readonly type: "INTERRUPT"; readonly reason?: RunFailure }
  | { readonly type: "TURN.STARTED"; readonly turnId: string }
  /** Any notification about this turn: the run is alive (feeds the watchdog). */
  | { readonly type: "ACTIVITY" }
  | { readonly type: "APPROVAL.ASKED" }
  | { readonly type: "APPROVAL.SETTLED" }
  | { readonly type: "APPROVAL.TIMED_OUT" }
  | { readonly type: "THREAD.IDLE" }
  | ({ readonly type: "TURN.COMPLETED" } & TurnOutcome)
  | { readonly type: "CHILD.EXITED"; readonly reason: string }

/** Interrupts that fail the run even when the turn completed anyway: it did not stay within bounds. */
export const failsEvenIfCompleted = (reason: RunFailure | null): boolean =>
  reason?.code === "approval-timed-out" || reason?.code === "budget-exceeded"

/** Why a turn that ended did not succeed; an interrupt codexd asked for keeps its own reason. */
export const failureOf = (context: RunMachineContext, outcome: TurnOutcome): RunFailure | null => {
  if (failsEvenIfCompleted(context.interruptReason)) return context.interruptReason
  if (outcome.status === "completed") return null
  if (context.interruptReason !== null) return context.interruptReason
  if (outcome.status === "interrupted") return { code: "interrupted", message: "the turn was interrupted" }
  return {
    code: "turn-failed",
    message: outcome.errorMessage ?? `the turn ended ${outcome.status}`,
    ...(outcome.codexErrorInfo === undefined ? {} : { codexErrorInfo: outcome.codexErrorInfo }),
  }
}
