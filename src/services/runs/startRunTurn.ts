/**
 * Starting a run's turn on its thread. A prompt is `turn/start` with the run's effective options and
 * the run id as the user message's client id (after a crash, recovery finds the turn by it). A run
 * that is an operation: a review is started by `review/start`, whose answer names its turn; a
 * compaction by `thread/compact/start`, whose answer names none, so its turn is the next one the
 * thread announces (`turn/started`).
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { RunRecord } from "../../domain/run.ts"
import type { RunOperation } from "../../domain/threadOperations.ts"
import { type SessionTurnDefaults, turnInputOf, turnParamsOf } from "../../domain/turnOptions.ts"
import type { AppServerClient } from "../appServer/AppServerClient.ts"

/** The thread announced no turn after the operation was started. */
export class OperationTurnError extends Schema.TaggedError<OperationTurnError>()("OperationTurnError", {
  reason: Schema.String,
}) {
  override get message(): string {
    return this.reason
  }
}

const ANNOUNCE_TIMEOUT_MS = 30_000

/** The operation's turn id; `announced` resolves with the next turn the thread starts. */
const startOperationTurn = (
  client: AppServerClient,
  threadId: string,
  operation: RunOperation,
  announced: Effect.Effect<string>,
) =>
  operation.type === "review"
    ? Effect.map(
        client.reviewStart({ threadId, target: operation.target, delivery: "inline" }),
        (started) => started.turn.id,
      )
    : client.threadCompactStart({ threadId }).pipe(
        Effect.andThen(announced),
        Effect.timeoutOrElse({
          duration: ANNOUNCE_TIMEOUT_MS,
          orElse: () =>
            Effect.fail(new OperationTurnError({ reason: "codex started no compaction turn on the thread" })),
        }),
      )

/** The run's turn id; `announced` is completed by whoever sees the thread's next `turn/started`. */
export const startRunTurn = (
  client: AppServerClient,
  threadId: string,
  run: RunRecord,
  session: SessionTurnDefaults,
  announced: Deferred.Deferred<string>,
) =>
  run.operation !== undefined
    ? startOperationTurn(client, threadId, run.operation, Deferred.await(announced))
    : Effect.map(
        client.turnStart({
          threadId,
          clientUserMessageId: run.runId,
          input: turnInputOf(run.prompt, run.options?.images),
          ...(run.cwd === null ? {} : { cwd: run.cwd }),
          ...turnParamsOf(session, run.options),
        }),
        (started) => started.turn.id,
      )
