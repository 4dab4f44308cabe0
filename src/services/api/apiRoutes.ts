/**
 * The routes of the local API (DESIGN §3), each a method, a path pattern and a handler over the
 * daemon's services. Handlers validate bodies with the schemas of `domain/apiBodies.ts` and fail with
 * the services' tagged errors; `statusOfError` turns each tag into its HTTP status.
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Schema from "effect/Schema"
import { ApproveBody, CreateRunBody, CreateSessionBody, SteerBody } from "../../domain/apiBodies.ts"
import type { ResolvedConfig } from "../../domain/config.ts"
import { decodeValue } from "../../domain/decode.ts"
import type { RunId, SessionId } from "../../domain/ids.ts"
import type { Approvals } from "../approvals/Approvals.ts"
import type { Runs } from "../runs/Runs.ts"
import type { Sessions } from "../sessions/Sessions.ts"
import { snapshotOf } from "../status/statusSnapshot.ts"
import type { Store } from "../store/Store.ts"
import type { Supervisor } from "../supervisor/Supervisor.ts"
import { ApiError } from "./httpSupport.ts"

export interface ApiServices {
  readonly config: ResolvedConfig
  readonly store: Store["Service"]
  readonly sessions: Sessions["Service"]
  readonly runs: Runs["Service"]
  readonly approvals: Approvals["Service"]
  readonly supervisor: Supervisor["Service"]
  /** Ask the daemon to stop (after the answer is sent). */
  readonly shutdown: () => void
}

export interface ApiAnswer {
  readonly status: number
  readonly body: unknown
}

export interface Route {
  readonly method: "GET" | "POST"
  readonly pattern: string
  readonly summary: string
  readonly body?: Schema.Top
  readonly handle: (
    params: Readonly<Record<string, string>>,
    body: unknown,
    services: ApiServices,
  ) => Effect.Effect<ApiAnswer, { readonly _tag: string; readonly message: string }>
}

const ok = (body: unknown, status = 200): ApiAnswer => ({ status, body })

/** Decode a body, or a 400 naming the first bad field. */
const decodeBody = <A>(schema: Schema.Codec<A, unknown>, body: unknown): Effect.Effect<A, ApiError> => {
  const decoded = decodeValue(schema as Schema.ConstraintDecoder<A>, "body")(body)
  return Result.isSuccess(decoded)
    ? Effect.succeed(decoded.success)
    : Effect.fail(new ApiError({ status: 400, code: "invalid-body", message: decoded.failure.message }))
}

const sessionId = (params: Readonly<Record<string, string>>) => params.id as SessionId
const runId = (params: Readonly<Record<string, string>>) => params.id as RunId

export const routes: ReadonlyArray<Route> = [
  {
    method: "GET",
    pattern: "/v1/status",
    summary: "the status snapshot",
    handle: (_p, _b, s) => Effect.map(snapshotOf(s.config, s.store, process.pid), ok),
  },
  {
    method: "GET",
    pattern: "/v1/sessions",
    summary: "every session",
    handle: (_p, _b, s) => Effect.map(s.sessions.list, (sessions) => ok({ sessions })),
  },
  {
    method: "POST",
    pattern: "/v1/sessions",
    summary: "create a session and start its thread",
    body: CreateSessionBody,
    handle: (_p, body, s) =>
      Effect.gen(function* () {
        const spec = yield* decodeBody(CreateSessionBody, body)
        const session = yield* s.sessions.create({ ...spec, purpose: spec.purpose ?? "duplex" })
        return ok(session, 201)
      }),
  },
  {
    method: "GET",
    pattern: "/v1/sessions/:id",
    summary: "one session",
    handle: (params, _b, s) => Effect.map(s.sessions.get(sessionId(params)), ok),
  },
  {
    method: "POST",
    pattern: "/v1/sessions/:id/close",
    summary: "close a session",
    handle: (params, _b, s) => Effect.map(s.sessions.close(sessionId(params)), ok),
  },
  {
    method: "GET",
    pattern: "/v1/runs",
    summary: "the runs in the registry",
    handle: (_p, _b, s) => Effect.map(s.runs.list, (runs) => ok({ runs })),
  },
  {
    method: "POST",
    pattern: "/v1/runs",
    summary: "submit a run; answered once it is durable",
    body: CreateRunBody,
    handle: (_p, body, s) =>
      Effect.gen(function* () {
        const spec = yield* decodeBody(CreateRunBody, body)
        return ok(yield* s.runs.submit(spec), 202)
      }),
  },
  {
    method: "GET",
    pattern: "/v1/runs/:id",
    summary: "one run (archived ones too)",
    handle: (params, _b, s) => Effect.map(s.runs.get(runId(params)), ok),
  },
  {
    method: "POST",
    pattern: "/v1/runs/:id/interrupt",
    summary: "interrupt a run",
    handle: (params, _b, s) => Effect.map(s.runs.interrupt(runId(params)), (run) => ok(run, 202)),
  },
  {
    method: "POST",
    pattern: "/v1/runs/:id/steer",
    summary: "steer a running run, or edit a queued run's prompt",
    body: SteerBody,
    handle: (params, body, s) =>
      Effect.gen(function* () {
        const { text } = yield* decodeBody(SteerBody, body)
        return ok(yield* s.runs.steer(runId(params), text), 202)
      }),
  },
  {
    method: "GET",
    pattern: "/v1/approvals",
    summary: "approvals, pending and recently settled",
    handle: (_p, _b, s) => Effect.map(s.approvals.list, (approvals) => ok({ approvals })),
  },
  {
    method: "POST",
    pattern: "/v1/approvals/:id",
    summary: "answer a pending approval",
    body: ApproveBody,
    handle: (params, body, s) =>
      Effect.gen(function* () {
        const { decision } = yield* decodeBody(ApproveBody, body)
        return ok(yield* s.approvals.answer(params.id as string, decision))
      }),
  },
  {
    method: "POST",
    pattern: "/v1/child/restart",
    summary: "restart the app-server",
    handle: (_p, _b, s) => Effect.as(s.supervisor.restart, ok({ restarting: true }, 202)),
  },
  {
    method: "POST",
    pattern: "/v1/shutdown",
    summary: "stop the daemon",
    handle: (_p, _b, s) =>
      Effect.sync(() => setImmediate(s.shutdown)).pipe(Effect.as(ok({ stopping: true }, 202))),
  },
]

const STATUS_BY_TAG: Readonly<Record<string, readonly [number, string]>> = {
  ApiError: [400, "bad-request"],
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

export const apiErrorOf = (error: { readonly _tag: string; readonly message: string }): ApiError => {
  if (error instanceof ApiError) return error
  const [status, code] = STATUS_BY_TAG[error._tag] ?? [500, "internal"]
  return new ApiError({ status, code, message: error.message })
}

/** The route and its path parameters for a method and path; null when no pattern matches the path. */
export const matchRoute = (
  method: string,
  path: string,
): { readonly route: Route; readonly params: Record<string, string> } | "wrong-method" | null => {
  let pathMatched = false
  for (const route of routes) {
    const params = matchPattern(route.pattern, path)
    if (params === null) continue
    if (route.method === method) return { route, params }
    pathMatched = true
  }
  return pathMatched ? "wrong-method" : null
}

const matchPattern = (pattern: string, path: string): Record<string, string> | null => {
  const want = pattern.split("/")
  const got = path.split("/")
  if (want.length !== got.length) return null
  const params: Record<string, string> = {}
  for (const [i, part] of want.entries()) {
    const actual = got[i] as string
    if (part.startsWith(":")) {
      if (actual === "") return null
      params[part.slice(1)] = decodeURIComponent(actual)
    } else if (part !== actual) return null
  }
  return params
}
