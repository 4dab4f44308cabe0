/**
 * The shape of the local API's routes: each a method, a path pattern, who may call it, what it says
 * about itself (for the OpenAPI document), and a handler that is an Effect over the daemon's
 * services. A `json` route answers a JSON document; a `raw` route writes the response itself (the
 * event stream, a page). Route tables are plain arrays: LocalApi serves every table it is given, so a
 * second set of routes (a web page) joins without touching LocalApi.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import type * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type { ApiError } from "./httpSupport.ts"

/** `none`: anyone on loopback (liveness); `token`: the bearer token (programs, the CLI). */
export type RouteAuth = "none" | "token"

export interface ApiAnswer {
  readonly status: number
  readonly body: unknown
}

export interface RouteRequest {
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  /** The decoded JSON body of a POST; undefined for a GET. */
  readonly body: unknown
}

interface RouteBase {
  readonly method: "GET" | "POST"
  readonly pattern: string
  readonly summary: string
  readonly auth: RouteAuth
}

export interface JsonRoute<E, R> extends RouteBase {
  readonly kind: "json"
  readonly body?: Schema.Top
  /** The schema of a success answer, for the OpenAPI document. */
  readonly response?: Schema.Top
  readonly handle: (request: RouteRequest) => Effect.Effect<ApiAnswer, E, R>
}

export interface RawRoute<R> extends RouteBase {
  readonly kind: "raw"
  /** What a success answer carries, for the OpenAPI document (`text/event-stream`, `text/html`). */
  readonly contentType: string
  readonly handle: (req: IncomingMessage, res: ServerResponse, url: URL) => Effect.Effect<void, ApiError, R>
}

export type Route<E, R> = JsonRoute<E, R> | RawRoute<R>

export type RouteMatch<E, R> =
  | { readonly _tag: "Found"; readonly route: Route<E, R>; readonly params: Record<string, string> }
  | { readonly _tag: "WrongMethod" }
  | { readonly _tag: "NotFound" }

const matchPattern = (pattern: string, path: string): Record<string, string> | null => {
  const want = pattern.split("/")
  const got = path.split("/")
  if (want.length !== got.length) return null
  const params: Record<string, string> = {}
  for (const [i, part] of want.entries()) {
    const actual = got[i] as string
    if (part.startsWith(":")) {
      if (actual === "") return null
      try {
        params[part.slice(1)] = decodeURIComponent(actual)
      } catch {
        return null
      }
    } else if (part !== actual) return null
  }
  return params
}

/** The route and its path parameters for a method and path. */
export const matchRoute = <E, R>(
  routes: ReadonlyArray<Route<E, R>>,
  method: string,
  path: string,
): RouteMatch<E, R> => {
  let pathMatched = false
  for (const route of routes) {
    const params = matchPattern(route.pattern, path)
    if (params === null) continue
    if (route.method === method) return { _tag: "Found", route, params }
    pathMatched = true
  }
  return pathMatched ? { _tag: "WrongMethod" } : { _tag: "NotFound" }
}
