/**
 * The routes of the operations on a session's thread: fork it into a new session, revert it to
 * before one of its runs, and compact or review it (both run as turns of the thread, so they are
 * runs: queued behind the session's other runs, answered 202 once durable, with a result).
 * Exec mode has no app-server thread to do them on.
 */
import * as Effect from "effect/Effect"
import { CodexdConfig } from "../../config.ts"
import { RunStateError } from "../../domain/errors.ts"
import type { RunId, SessionId } from "../../domain/ids.ts"
import { RunRecord } from "../../domain/run.ts"
import { SessionRecord } from "../../domain/session.ts"
import {
  describeOperation,
  ForkSessionBody,
  RevertSessionBody,
  ReviewBody,
  type RunOperation,
} from "../../domain/threadOperations.ts"
import { Runs } from "../runs/Runs.ts"
import { Sessions } from "../sessions/Sessions.ts"
import { type ApiRoute, decodeBody, ok } from "./apiRoutes.ts"
import { ApiError } from "./httpSupport.ts"

const sessionIdOf = (params: Readonly<Record<string, string>>) => params.id as SessionId

const notInExecMode = Effect.flatMap(Effect.service(CodexdConfig), (config) =>
  config.server.mode === "exec"
    ? Effect.fail(
        new ApiError({
          status: 400,
          code: "exec-mode",
          message: "thread operations need the app-server (the daemon runs in exec mode)",
        }),
      )
    : Effect.void,
)

/** The turn of a finished run of the session: what a fork or a revert is cut at. */
const turnOfRun = (sessionId: SessionId, runId: RunId, action: string) =>
  Effect.gen(function* () {
    const run = yield* (yield* Runs).get(runId)
    if (run.sessionId !== sessionId)
      return yield* Effect.fail(
        new RunStateError({ runId, status: `a run of another session (${run.sessionId})`, action }),
      )
    if (run.turnId === null || (run.status !== "completed" && run.status !== "failed"))
      return yield* Effect.fail(
        new RunStateError({ runId, status: run.turnId === null ? "without a turn" : run.status, action }),
      )
    return run.turnId
  })

/** An operation run on the session's thread, queued as a run. */
const submitOperation = (sessionId: SessionId, operation: RunOperation) =>
  Effect.gen(function* () {
    yield* notInExecMode
    const runs = yield* Runs
    return ok(yield* runs.submit({ prompt: describeOperation(operation), sessionId, operation }), 202)
  })

export const threadRoutes: ReadonlyArray<ApiRoute> = [
  {
    kind: "json",
    auth: "token",
    method: "POST",
    pattern: "/v1/sessions/:id/fork",
    response: SessionRecord,
    summary: "a new session on a fork of the session's thread (through a run's turn, or all of it)",
    body: ForkSessionBody,
    handle: ({ params, body }) =>
      Effect.gen(function* () {
        yield* notInExecMode
        const { runId } = yield* decodeBody(ForkSessionBody, body ?? {})
        const sessionId = sessionIdOf(params)
        const through = runId == null ? null : yield* turnOfRun(sessionId, runId, "fork through")
        return ok(yield* (yield* Sessions).fork(sessionId, through), 201)
      }),
  },
  {
    kind: "json",
    auth: "token",
    method: "POST",
    pattern: "/v1/sessions/:id/revert",
    response: SessionRecord,
    summary: "revert the session's thread to before a run's turn (history only: files are not touched)",
    body: RevertSessionBody,
    handle: ({ params, body }) =>
      Effect.gen(function* () {
        yield* notInExecMode
        const { runId } = yield* decodeBody(RevertSessionBody, body)
        const sessionId = sessionIdOf(params)
        const beforeTurnId = yield* turnOfRun(sessionId, runId, "revert to before")
        const busy = (yield* (yield* Runs).list).find(
          (r) => r.sessionId === sessionId && (r.status === "queued" || r.status === "running"),
        )
        if (busy !== undefined)
          return yield* Effect.fail(
            new RunStateError({ runId: busy.runId, status: busy.status, action: "revert the session under" }),
          )
        return ok(yield* (yield* Sessions).revert(sessionId, beforeTurnId))
      }),
  },
  {
    kind: "json",
    auth: "token",
    method: "POST",
    pattern: "/v1/sessions/:id/compact",
    response: RunRecord,
    summary: "compact the session's thread (a run; answered once it is durable)",
    handle: ({ params }) => submitOperation(sessionIdOf(params), { type: "compact" }),
  },
  {
    kind: "json",
    auth: "token",
    method: "POST",
    pattern: "/v1/sessions/:id/review",
    response: RunRecord,
    summary: "review the working tree, a commit or a branch (a run whose result carries the review)",
    body: ReviewBody,
    handle: ({ params, body }) =>
      Effect.flatMap(decodeBody(ReviewBody, body), ({ target }) =>
        submitOperation(sessionIdOf(params), { type: "review", target }),
      ),
  },
]
