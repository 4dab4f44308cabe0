/**
 * The routes of the local API (DESIGN §3), each a method, a path pattern and a handler over the
 * daemon's services. Handlers validate bodies with the schemas of `domain/apiBodies.ts` and fail with
 * the services' tagged errors; `STATUS_BY_TAG` turns each tag into its HTTP status, and the compiler
 * holds it to every error a route can fail with.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Schema from "effect/Schema"
import { CodexdConfig } from "../../config.ts"
import {
  ApprovalList,
  Health,
  RestartAnswer,
  RunList,
  SessionList,
  ShutdownAnswer,
} from "../../domain/apiAnswers.ts"
import { ApproveBody, CreateRunBody, CreateSessionBody, SteerBody } from "../../domain/apiBodies.ts"
import { ApprovalRecord } from "../../domain/approval.ts"
import { decodeValue } from "../../domain/decode.ts"
import type {
  ApprovalNotFoundError,
  ApprovalSettledError,
  AppServerUnavailableError,
  InvalidOptionError,
  RunNotFoundError,
  RunStateError,
  SessionClosedError,
  SessionNotFoundError,
} from "../../domain/errors.ts"
import type { RunId, SessionId } from "../../domain/ids.ts"
import { RunRecord } from "../../domain/run.ts"
import { SessionRecord } from "../../domain/session.ts"
import { StatusSnapshot } from "../../domain/status.ts"
import { Approvals } from "../approvals/Approvals.ts"
import type { AppServerError } from "../appServer/appServerErrors.ts"
import { CodexLogin, readCodexLogin } from "../appServer/codexLogin.ts"
import { EventLog } from "../events/EventLog.ts"
import { Runs } from "../runs/Runs.ts"
import { Sessions } from "../sessions/Sessions.ts"
import { snapshotOf } from "../status/statusSnapshot.ts"
import { Store, type StoreError } from "../store/Store.ts"
import { Supervisor } from "../supervisor/Supervisor.ts"
import { serveEventStream } from "./eventStream.ts"
import { ApiError } from "./httpSupport.ts"
import type { ApiAnswer, Route } from "./routeTable.ts"

/** Asking the daemon to stop (the composition root provides it). */
export class DaemonControl extends Context.Service<
  DaemonControl,
  {
    /** Stop the daemon once the current answer is sent. */
    readonly shutdown: Effect.Effect<void>
  }
>()("codexd/DaemonControl") {}

/** Every failure a route may answer with. */
export type RouteError =
  | ApiError
  | InvalidOptionError
  | SessionNotFoundError
  | RunNotFoundError
  | ApprovalNotFoundError
  | SessionClosedError
  | RunStateError
  | ApprovalSettledError
  | AppServerUnavailableError
  | AppServerError
  | StoreError

/** What the routes need from the daemon. */
export type RouteServices =
  | CodexdConfig
  | Store
  | EventLog
  | Sessions
  | Runs
  | Approvals
  | Supervisor
  | DaemonControl

export type ApiRoute = Route<RouteError, RouteServices>

const STATUS_BY_TAG: { readonly [Tag in RouteError["_tag"]]: readonly [number, string] } = {
  ApiError: [400, "bad-request"],
  InvalidOptionError: [400, "invalid-option"],
  SessionNotFoundError: [404, "not-found"],
  RunNotFoundError: [404, "not-found"],
  ApprovalNotFoundError: [404, "not-found"],
  SessionClosedError: [409, "conflict"],
  RunStateError: [409, "conflict"],
  ApprovalSettledError: [409, "conflict"],
  AppServerUnavailableError: [503, "app-server-unavailable"],
  RpcError: [502, "app-server-refused"],
  RpcOverloadedError: [503, "app-server-overloaded"],
  RequestTimeoutError: [504, "app-server-timeout"],
  TransportClosedError: [503, "app-server-unavailable"],
  ResultDecodeError: [502, "app-server-bad-answer"],
  StoreError: [500, "store"],
}

export const apiErrorOf = (error: RouteError): ApiError => {
  if (error._tag === "ApiError") return error
  if (error._tag === "InvalidOptionError")
    return new ApiError({ status: 400, code: "invalid-option", message: error.message, path: error.option })
  const [status, code] = STATUS_BY_TAG[error._tag]
  return new ApiError({ status, code, message: error.message })
}

export const ok = (body: unknown, status = 200): ApiAnswer => ({ status, body })

/** Decode a body, or a 400 naming the first bad field. */
export const decodeBody = <A>(
  schema: Schema.ConstraintDecoder<A>,
  body: unknown,
): Effect.Effect<A, ApiError> => {
  const decoded = decodeValue(schema, "body")(body)
  return Result.isSuccess(decoded)
    ? Effect.succeed(decoded.success)
    : Effect.fail(
        new ApiError({
          status: 400,
          code: "invalid-body",
          message: decoded.failure.message,
          path: decoded.failure.path,
        }),
      )
}

const sessionIdOf = (params: Readonly<Record<string, string>>) => params.id as SessionId
const runIdOf = (params: Readonly<Record<string, string>>) => params.id as RunId

/** The JSON routes of `/v1`, and the event stream at the configured path. */
export const apiRoutes = (eventStreamPath: string): ReadonlyArray<ApiRoute> => [
  {
    kind: "json",
    auth: "none",
    method: "GET",
    pattern: "/healthz",
    response: Health,
    summary: "liveness, no token needed",
    handle: () => Effect.succeed(ok({ ok: true })),
  },
  {
    kind: "json",
    auth: "token",
    method: "GET",
    pattern: "/v1/status",
    response: StatusSnapshot,
    summary: "the status snapshot",
    handle: () =>
      Effect.gen(function* () {
        const config = yield* CodexdConfig
        const store = yield* Store
        const snapshot = yield* snapshotOf(config, store, process.pid)
        // The live cache, not its last save: the file is written at most every half second.
        return ok(snapshot === null ? null : { ...snapshot, recentEvents: yield* (yield* EventLog).recent })
      }),
  },
  {
    kind: "json",
    auth: "token",
    method: "GET",
    pattern: "/v1/sessions",
    response: SessionList,
    summary: "every session",
    handle: () =>
      Effect.map(
        Effect.flatMap(Effect.service(Sessions), (s) => s.list),
        (sessions) => ok({ sessions }),
      ),
  },
  {
    kind: "json",
    auth: "token",
    method: "POST",
    pattern: "/v1/sessions",
    response: SessionRecord,
    summary: "create a session and start its thread",
    body: CreateSessionBody,
    handle: ({ body }) =>
      Effect.gen(function* () {
        const spec = yield* decodeBody(CreateSessionBody, body)
        const sessions = yield* Sessions
        return ok(yield* sessions.create({ ...spec, purpose: spec.purpose ?? "duplex" }), 201)
      }),
  },
  {
    kind: "json",
    auth: "token",
    method: "GET",
    pattern: "/v1/sessions/:id",
    response: SessionRecord,
    summary: "one session",
    handle: ({ params }) =>
      Effect.map(
        Effect.flatMap(Effect.service(Sessions), (s) => s.get(sessionIdOf(params))),
        ok,
      ),
  },
  {
    kind: "json",
    auth: "token",
    method: "POST",
    pattern: "/v1/sessions/:id/close",
    response: SessionRecord,
    summary: "close a session",
    handle: ({ params }) =>
      Effect.map(
        Effect.flatMap(Effect.service(Sessions), (s) => s.close(sessionIdOf(params))),
        ok,
      ),
  },
  {
    kind: "json",
    auth: "token",
    method: "GET",
    pattern: "/v1/runs",
    response: RunList,
    summary: "the runs in the registry",
    handle: () =>
      Effect.map(
        Effect.flatMap(Effect.service(Runs), (r) => r.list),
        (runs) => ok({ runs }),
      ),
  },
  {
    kind: "json",
    auth: "token",
    method: "POST",
    pattern: "/v1/runs",
    response: RunRecord,
    summary: "submit a run; answered once it is durable",
    body: CreateRunBody,
    handle: ({ body }) =>
      Effect.gen(function* () {
        const { prompt, sessionId, cwd, approvals, metadata, ...options } = yield* decodeBody(
          CreateRunBody,
          body,
        )
        const runs = yield* Runs
        const spec = {
          prompt,
          sessionId: sessionId ?? null,
          cwd: cwd ?? null,
          approvals: approvals ?? null,
          metadata: metadata ?? {},
          options,
        }
        return ok(yield* runs.submit(spec), 202)
      }),
  },
  {
    kind: "json",
    auth: "token",
    method: "GET",
    pattern: "/v1/runs/:id",
    response: RunRecord,
    summary: "one run (archived ones too)",
    handle: ({ params }) =>
      Effect.map(
        Effect.flatMap(Effect.service(Runs), (r) => r.get(runIdOf(params))),
        ok,
      ),
  },
  {
    kind: "json",
    auth: "token",
    method: "POST",
    pattern: "/v1/runs/:id/interrupt",
    response: RunRecord,
    summary: "interrupt a run",
    handle: ({ params }) =>
      Effect.map(
        Effect.flatMap(Effect.service(Runs), (r) => r.interrupt(runIdOf(params))),
        (run) => ok(run, 202),
      ),
  },
  {
    kind: "json",
    auth: "token",
    method: "POST",
    pattern: "/v1/runs/:id/steer",
    response: RunRecord,
    summary: "steer a running run, or edit a queued run's prompt",
    body: SteerBody,
    handle: ({ params, body }) =>
      Effect.gen(function* () {
        const { text } = yield* decodeBody(SteerBody, body)
        const runs = yield* Runs
        return ok(yield* runs.steer(runIdOf(params), text), 202)
      }),
  },
  {
    kind: "json",
    auth: "token",
    method: "GET",
    pattern: "/v1/approvals",
    response: ApprovalList,
    summary: "approvals, pending and recently settled",
    handle: () =>
      Effect.map(
        Effect.flatMap(Effect.service(Approvals), (a) => a.list),
        (approvals) => ok({ approvals }),
      ),
  },
  {
    kind: "json",
    auth: "token",
    method: "POST",
    pattern: "/v1/approvals/:id",
    response: ApprovalRecord,
    summary: "answer a pending approval",
    body: ApproveBody,
    handle: ({ params, body }) =>
      Effect.gen(function* () {
        const { decision } = yield* decodeBody(ApproveBody, body)
        const approvals = yield* Approvals
        return ok(yield* approvals.answer(params.id as string, decision))
      }),
  },
  {
    kind: "json",
    auth: "token",
    method: "GET",
    pattern: "/v1/codex/login",
    response: CodexLogin,
    summary: "whether codex is logged in (or has a key for its provider), asked of the app-server",
    handle: () =>
      Effect.gen(function* () {
        const supervisor = yield* Supervisor
        const client = yield* supervisor.client
        const login = yield* readCodexLogin(client).pipe(
          Effect.mapError(
            (error) =>
              new ApiError({
                status: 502,
                code: "app-server-error",
                message: `account/read failed: ${error instanceof Error ? error.message : String(error)}`,
              }),
          ),
        )
        return ok(login)
      }),
  },
  {
    kind: "json",
    auth: "token",
    method: "POST",
    pattern: "/v1/child/restart",
    response: RestartAnswer,
    summary: "restart the app-server (a running child is stopped gracefully and a new one started)",
    handle: () =>
      Effect.gen(function* () {
        const supervisor = yield* Supervisor
        const answer = yield* supervisor.restart
        return ok({ restarting: true, ...answer }, 202)
      }),
  },
  {
    kind: "json",
    auth: "token",
    method: "POST",
    pattern: "/v1/shutdown",
    response: ShutdownAnswer,
    summary: "stop the daemon",
    handle: () =>
      Effect.gen(function* () {
        const control = yield* DaemonControl
        yield* control.shutdown
        return ok({ stopping: true }, 202)
      }),
  },
  {
    kind: "raw",
    auth: "token",
    method: "GET",
    pattern: eventStreamPath,
    summary:
      "the live event stream (Server-Sent Events); ?since=SEQ or Last-Event-ID replays, ?runId= and ?sessionId= filter",
    contentType: "text/event-stream",
    handle: (req, res, url) =>
      Effect.gen(function* () {
        const events = yield* EventLog
        yield* serveEventStream(req, res, url, events)
      }),
  },
]
