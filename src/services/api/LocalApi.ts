/**
 * LocalApi: the daemon's HTTP API on a loopback address. Owns the listening socket and the checks
 * every request passes (Host is the address it listens on; the bearer token, or a browser session
 * with its CSRF token for changes, unless the route says `auth: "none"`), then hands the request to the route tables it is given. It knows no route by name
 * except `/openapi.json`, which it builds from those same tables. No CORS headers: browsers'
 * cross-origin reads stay refused.
 *
 * node:http rather than `effect/unstable/http`'s server: the API's Host and token checks, its
 * backpressure-aware event stream and its error shape are small and exact here, and the request
 * handler runs on the layer's own runtime through the bridge, so handlers see the daemon's services,
 * logger and Clock.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { BrowserCheck } from "../dashboard/dashboardAuth.ts"
import { makeBridge } from "../runtime.ts"
import { apiErrorOf, type RouteError } from "./apiRoutes.ts"
import { docsPageHtml, sendHtml } from "./docsPage.ts"
import {
  ApiError,
  hostAllowed,
  readJsonBody,
  sendError,
  sendJson,
  targetProblem,
  tokenMatches,
} from "./httpSupport.ts"
import { openApiDocument } from "./openApi.ts"
import { matchRoute, type Route } from "./routeTable.ts"

/** The configured address could not be listened on (in use, not a local address). */
export class ApiListenError extends Schema.TaggedError<ApiListenError>()("ApiListenError", {
  address: Schema.String,
  message: Schema.String,
}) {}

export interface LocalApiOptions<R> {
  /** The configured base, e.g. `http://127.0.0.1:4319` (port 0: any free port). */
  readonly localApiBase: string
  readonly token: string
  /** Every table is served; a path belongs to the first route that matches it. */
  readonly routes: ReadonlyArray<Route<RouteError, R>>
  /**
   * Browser sessions (the dashboard's cookie and CSRF token), accepted where the token is; without
   * it only the bearer token opens the API.
   */
  readonly browser?: { readonly check: (req: IncomingMessage, method: string) => BrowserCheck }
}

export interface LocalApiHandle {
  /** The address actually bound, e.g. `http://127.0.0.1:4319`. */
  readonly apiBase: string
}

const failure = (status: number, code: string, message: string) => new ApiError({ status, code, message })

const internal = (error: unknown) =>
  failure(500, "internal", error instanceof Error ? error.message : String(error))

/** Listen on the configured loopback address for as long as the scope is open. */
export const serveLocalApi = <R>(
  options: LocalApiOptions<R>,
): Effect.Effect<LocalApiHandle, ApiListenError, Scope.Scope | R> =>
  Effect.gen(function* () {
    const bridge = yield* makeBridge<R>()
    const configured = new URL(options.localApiBase)
    const host = configured.hostname.replace(/^\[|\]$/g, "")
    const openApi = openApiDocument(options.routes)
    const docsPage = docsPageHtml(openApi)
    let port = 0

    const answer = (req: IncomingMessage, res: ServerResponse): Effect.Effect<void, RouteError, R> =>
      Effect.gen(function* () {
        const problem = targetProblem(req)
        if (problem !== null) return yield* failure(400, "bad-target", problem)
        if (!hostAllowed(req.headers.host, port, configured.hostname))
          return yield* failure(421, "bad-host", "the Host header is not this API's address")
        const url = new URL(req.url ?? "/", `http://${req.headers.host}`)
        const method = req.method ?? "GET"
        const browser = options.browser?.check(req, method) ?? { _tag: "None" }
        const authorized =
          tokenMatches(req.headers.authorization, options.token) || browser._tag === "Session"
        const refuse = () => {
          // A signed-in browser's change without its CSRF token is refused as such, not as a stranger.
          if (browser._tag === "MissingCsrf")
            return failure(403, "csrf", "a signed-in change needs the page's CSRF token")
          res.setHeader("www-authenticate", "Bearer")
          return failure(401, "unauthorized", "a valid bearer token is required")
        }
        if (url.pathname === "/docs" && method === "GET") return sendHtml(res, docsPage)
        if (url.pathname === "/openapi.json" && method === "GET") {
          if (!authorized) return yield* refuse()
          return sendJson(res, 200, openApi)
        }
        const matched = matchRoute(options.routes, method, url.pathname)
        // An unknown path answers 401 before 404 without the token: no route list for strangers.
        if (matched._tag !== "Found" || matched.route.auth === "token")
          if (!authorized) return yield* refuse()
        if (matched._tag === "NotFound") return yield* failure(404, "not-found", "no such route")
        if (matched._tag === "WrongMethod")
          return yield* failure(405, "method-not-allowed", `${method} is not allowed on ${url.pathname}`)
        const route = matched.route
        if (route.kind === "raw") return yield* route.handle(req, res, url)
        const body =
          route.method === "POST"
            ? yield* Effect.tryPromise({
                try: () => readJsonBody(req),
                catch: (error) => (error instanceof ApiError ? error : internal(error)),
              })
            : undefined
        const result = yield* route.handle({ params: matched.params, query: url.searchParams, body })
        sendJson(res, result.status, result.body)
      })

    const server = createServer((req, res) => {
      const controller = new AbortController()
      // A client gone before its answer interrupts the handler (and an event stream's subscription).
      res.once("close", () => controller.abort())
      bridge
        .run(
          answer(req, res).pipe(
            Effect.catch((error) => Effect.sync(() => respondWithError(res, apiErrorOf(error)))),
            Effect.catchDefect((defect) =>
              Effect.logError("api handler died", defect).pipe(
                Effect.andThen(Effect.sync(() => respondWithError(res, internal(defect)))),
              ),
            ),
          ),
          controller.signal,
        )
        .catch(() => res.destroy())
    })
    yield* Effect.acquireRelease(
      Effect.callback<void, ApiListenError>((resume) => {
        const onError = (error: Error) =>
          resume(Effect.fail(new ApiListenError({ address: options.localApiBase, message: error.message })))
        server.once("error", onError)
        server.listen(Number(configured.port), host, () => {
          server.off("error", onError)
          resume(Effect.void)
        })
      }),
      () =>
        Effect.callback<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        }),
    )
    port = (server.address() as AddressInfo).port
    return { apiBase: `http://${configured.hostname}:${port}` }
  })

const respondWithError = (res: ServerResponse, error: ApiError): void => {
  if (!res.headersSent) sendError(res, error)
  else res.end()
}
