/**
 * The dashboard's routes, a table LocalApi serves beside the API's: the page at `/` (or, without a
 * session, how to sign in), its files, the one-time sign-in URL's exchange for a session cookie, the
 * sign-out that forgets it, and for holders of the API token (`codexd open`) the route that issues such a URL. The page itself
 * reads and changes everything through the ordinary API routes, with its cookie and CSRF token.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { machines } from "../../machines/registry.ts"
import { sendHtml } from "../api/docsPage.ts"
import { ApiError } from "../api/httpSupport.ts"
import type { Route } from "../api/routeTable.ts"
import { ASSET_PREFIX, dashboardAssets } from "./dashboardAssets.ts"
import { type DashboardAuth, SIGN_IN_CODE_TTL_MS } from "./dashboardAuth.ts"
import { DASHBOARD_CSP, dashboardHtml, signInHtml } from "./dashboardPage.ts"

export const SIGN_IN_PATH = "/dashboard/sign-in"
export const SIGN_OUT_PATH = "/dashboard/sign-out"

export const SignInLink = Schema.Struct({
  /** The path and one-time code to open on the API's address. */
  path: Schema.String,
  expiresInMs: Schema.Number,
})

const SIGN_IN_CSP = "default-src 'none'; style-src 'self'"

export const dashboardRoutes = (
  auth: DashboardAuth,
  eventStreamPath: string,
): ReadonlyArray<Route<ApiError, never>> => [
  {
    kind: "raw",
    auth: "none",
    method: "GET",
    pattern: "/",
    summary: "the dashboard (a browser signed in with `codexd open`), else how to sign in",
    contentType: "text/html",
    handle: (req, res) =>
      Effect.sync(() => {
        const session = auth.sessionOf(req)
        if (session === null) return sendHtml(res, signInHtml(null), { status: 401, csp: SIGN_IN_CSP })
        sendHtml(res, dashboardHtml({ csrfToken: session.csrfToken, eventStreamPath, machines }), {
          csp: DASHBOARD_CSP,
          headers: { "x-frame-options": "DENY", "referrer-policy": "no-referrer" },
        })
      }),
  },
  {
    kind: "raw",
    auth: "none",
    method: "GET",
    pattern: `${ASSET_PREFIX}:name`,
    summary: "the dashboard's scripts and stylesheet (package code, no data)",
    contentType: "text/javascript",
    handle: (_req, res, url) =>
      Effect.gen(function* () {
        const name = decodeURIComponent(url.pathname.slice(ASSET_PREFIX.length))
        const asset = dashboardAssets().get(name)
        if (asset === undefined)
          return yield* new ApiError({ status: 404, code: "not-found", message: "no such file" })
        res.writeHead(200, {
          "content-type": asset.contentType,
          "content-length": asset.body.length,
          "cache-control": "no-cache",
          "x-content-type-options": "nosniff",
        })
        res.end(asset.body)
      }),
  },
  {
    kind: "raw",
    auth: "none",
    method: "GET",
    pattern: SIGN_IN_PATH,
    summary: "exchange a one-time sign-in code (?code=) for a session cookie, then go to the dashboard",
    contentType: "text/html",
    handle: (req, res, url) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const session = auth.redeem(url.searchParams.get("code") ?? "", now)
        if (session === null)
          return sendHtml(res, signInHtml("That sign-in link was already used or has expired."), {
            status: 403,
            csp: SIGN_IN_CSP,
          })
        res.writeHead(303, {
          location: "/",
          "set-cookie": auth.cookieFor(session, req.headers.host),
          "cache-control": "no-store",
          "referrer-policy": "no-referrer",
        })
        res.end()
      }),
  },
  {
    kind: "raw",
    // As every change: the token, or the session cookie with the page's CSRF token (so another site
    // cannot sign a browser out).
    auth: "token",
    method: "POST",
    pattern: SIGN_OUT_PATH,
    summary: "sign this browser out: its session is forgotten and its cookie cleared (204)",
    contentType: "text/plain",
    handle: (req, res) =>
      Effect.sync(() => {
        auth.forget(req)
        res.writeHead(204, {
          "set-cookie": auth.clearedCookie(req.headers.host),
          "cache-control": "no-store",
        })
        res.end()
      }),
  },
  {
    kind: "json",
    auth: "token",
    method: "POST",
    pattern: "/v1/dashboard/sign-in-links",
    response: SignInLink,
    summary: "a one-time URL path that signs a browser in to the dashboard (what `codexd open` opens)",
    handle: () =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const code = auth.issueCode(now)
        return {
          status: 201,
          body: { path: `${SIGN_IN_PATH}?code=${code}`, expiresInMs: SIGN_IN_CODE_TTL_MS },
        }
      }),
  },
]
