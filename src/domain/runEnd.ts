/**
 * The end of a run, as one pure function: from what is known when a run ends (its result, its
 * failure if any, the time) to the record's final fields, the session's last turn and the end event.
 * Live runs and recovery after a crash both end runs with it, so a run ends the same way whichever
 * saw it end.
 */
import type { EventInput } from "./event.ts"
import type { RunFailure, RunRecord } from "./run.ts"
import { type RunResult, summarize } from "./runResult.ts"
import { parseOutput } from "./structuredOutput.ts"

export interface RunEndInput {
  readonly run: RunRecord
  readonly result: RunResult
  /** Null when the run completed. */
  readonly failure: RunFailure | null
  readonly finishedAt: string
  /** Ended by recovery after a daemon restart rather than by its live turn. */
  readonly recovered?: boolean
}

export interface RunEnd {
  /** The change to the run's record. */
  readonly update: (run: RunRecord) => RunRecord
  /** The session's last turn. */
  readonly sessionTurn: { readonly turnId: string | null; readonly status: string }
  readonly event: EventInput
}

/**
 * A completed turn of a run that asked for structured output: its final message parsed into
 * `result.output`, or the run failed `output-invalid` when the message is not what the schema says.
 */
const withOutput = (
  run: RunRecord,
  result: RunResult,
  failure: RunFailure | null,
): { readonly result: RunResult; readonly failure: RunFailure | null } => {
  const schema = run.options?.outputSchema
  if (failure !== null || schema == null) return { result, failure }
  const checked = parseOutput(schema, result.finalMessage)
  return checked._tag === "Parsed"
    ? { result: { ...result, output: checked.output }, failure }
    : { result, failure: { code: "output-invalid", message: checked.message } }
}

export const endOfRun = (input: RunEndInput): RunEnd => {
  const { run, finishedAt, recovered = false } = input
  const { result, failure } = withOutput(run, input.result, input.failure)
  const status = failure === null ? ("completed" as const) : ("failed" as const)
  const summary = summarize(result, failure)
  const withInfo: RunResult =
    failure?.codexErrorInfo === undefined ? result : { ...result, codexErrorInfo: failure.codexErrorInfo }
  const ids = { runId: run.runId, sessionId: run.sessionId, threadId: result.threadId, turnId: result.turnId }
  return {
    update: (r) => ({
      ...r,
      status,
      finishedAt,
      // A run that completed started at some point; one that failed before starting never did.
      startedAt: r.startedAt ?? (failure === null ? finishedAt : null),
      threadId: result.threadId ?? r.threadId,
      turnId: result.turnId ?? r.turnId,
      error: failure?.message ?? null,
      errorCode: failure?.code ?? null,
      summary,
      result: withInfo,
    }),
    sessionTurn: { turnId: result.turnId, status: result.turnStatus ?? (recovered ? "interrupted" : status) },
    event: {
      level: failure === null ? "info" : "error",
      type: `run.${status}`,
      message: `run ${run.runId} ${summary}${recovered ? " (recovered after a restart)" : ""}`,
      detail: {
        ...ids,
        status,
        errorCode: failure?.code ?? null,
        summary,
        ...(recovered ? { recovered: true } : {}),
      },
    },
  }
}
