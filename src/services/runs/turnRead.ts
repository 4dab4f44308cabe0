/**
 * Asking codex how a turn went: `thread/read` with its turns, and the turn's outcome as the run
 * machine takes it. Used by a live run whose thread went idle without `turn/completed`, and by
 * recovery for runs a previous daemon left running.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { Turn } from "../../domain/appServer/protocol.ts"
import type { TurnOutcome } from "../../machines/runMachine.ts"
import type { AppServerClient } from "../appServer/AppServerClient.ts"

/** `thread/read` could not tell how the turn ended (no thread yet, or the turn is not listed). */
export class TurnReadError extends Schema.TaggedError<TurnReadError>()("TurnReadError", {
  reason: Schema.String,
}) {
  override get message(): string {
    return this.reason
  }
}

/** The turn as `thread/read` lists it, or null when the thread does not list it. */
export const readThreadTurn = (client: AppServerClient, threadId: string, turnId: string | null) =>
  Effect.map(
    client.threadRead({ threadId, includeTurns: true }),
    (read) => read.thread.turns?.find((t) => t.id === turnId) ?? null,
  )

/**
 * The turn a run started, among a thread's turns: the one whose user message carries the run id as
 * its client id (every turn codexd starts does), else the turn id the run recorded (a run started
 * before client ids were sent). Null when codex has no turn of the run.
 */
export const turnOfRun = (turns: ReadonlyArray<Turn>, runId: string, turnId: string | null): Turn | null =>
  turns.find((turn) =>
    (turn.items ?? []).some((item) => item.type === "userMessage" && item.clientId === runId),
  ) ??
  turns.find((turn) => turn.id === turnId) ??
  null

/** The outcome of a turn as `thread/read` reports it. */
export const outcomeOfTurn = (turn: {
  readonly status: TurnOutcome["status"]
  readonly error?: { readonly message: string; readonly codexErrorInfo?: unknown } | null | undefined
}): TurnOutcome => ({
  status: turn.status,
  errorMessage: turn.error?.message ?? null,
  ...(turn.error?.codexErrorInfo == null ? {} : { codexErrorInfo: turn.error.codexErrorInfo }),
})

/** How the turn ended, or why codex could not say. */
export const readTurnOutcome = (
  client: AppServerClient | null,
  threadId: string | null,
  turnId: string | null,
) =>
  Effect.gen(function* () {
    if (client === null || threadId === null)
      return yield* Effect.fail(new TurnReadError({ reason: "no thread to read" }))
    const turn = yield* readThreadTurn(client, threadId, turnId)
    if (turn === null)
      return yield* Effect.fail(new TurnReadError({ reason: `thread/read does not list turn ${turnId}` }))
    return outcomeOfTurn(turn)
  })
