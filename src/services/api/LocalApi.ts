/**
 * LocalApi: the daemon's HTTP API on a loopback address. Owns the listening socket, the checks every
 * request passes (Host is the address it listens on, the bearer token; `/healthz` alone needs no
 * token), routing, and the event stream. Does not own what the routes do (the services do) or the
 * token file's creation (apiToken.ts). No CORS headers: browsers' cross-origin reads stay refused.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import * as Effect from "effect/Effect"
import type { EventLog } from "../events/EventLog.ts"
import { type ApiServices, apiErrorOf, matchRoute, routes } from "./apiRoutes.ts"
import { serveEventStream } from "./eventStream.ts"
import { ApiError, hostAllowed, readJsonBody, sendError, sendJson, tokenMatches } from "./httpSupport.ts"
import { openApiDocument } from "./openApi.ts"

export interface LocalApiHandle {
  /** The address actually bound, e.g. `http://127.0.0.1:4319`. */
  readonly apiBase: string
  readonly close: () => Promise<void>
}

const notFound = () => new ApiError({ status: 404, code: "not-found", message: "no such route" })

export const startLocalApi = async (
  services: ApiServices & { readonly events: EventLog["Service"]; readonly token: string },
): Promise<LocalApiHandle> => {
  const configured = new URL(services.config.service.localApiBase)
  const host = configured.hostname.replace(/^\[|\]$/g, "")
  const streamPath = services.config.service.eventStreamPath
  let port = 0
  const openApi = openApiDocument(routes, streamPath)

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!hostAllowed(req.headers.host, port)) {
      sendError(
        res,
        new ApiError({ status: 421, code: "bad-host", message: "the Host header is not this API's address" }),
      )
      return
    }
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`)
    if (url.pathname === "/healthz") {
      sendJson(res, 200, { ok: true })
      return
    }
    if (!tokenMatches(req.headers.authorization, services.token)) {
      res.setHeader("www-authenticate", "Bearer")
      sendError(
        res,
        new ApiError({ status: 401, code: "unauthorized", message: "a valid bearer token is required" }),
      )
      return
    }
    if (url.pathname === "/openapi.json") {
      sendJson(res, 200, openApi)
      return
    }
    if (url.pathname === streamPath) {
      if (req.method !== "GET")
        throw new ApiError({ status: 405, code: "method-not-allowed", message: "use GET" })
      await serveEventStream(req, res, url, services.events)
      return
    }
    let matched: ReturnType<typeof matchRoute>
    try {
      matched = matchRoute(req.method ?? "GET", url.pathname)
    } catch {
      throw notFound()
    }
    if (matched === null) throw notFound()
    if (matched === "wrong-method")
      throw new ApiError({
        status: 405,
        code: "method-not-allowed",
        message: `${req.method} is not allowed on ${url.pathname}`,
      })
    const body = matched.route.method === "POST" ? await readJsonBody(req) : undefined
    const answer = await Effect.runPromise(
      matched.route.handle(matched.params, body, services).pipe(Effect.mapError(apiErrorOf), Effect.result),
    )
    if (answer._tag === "Success") sendJson(res, answer.success.status, answer.success.body)
    else sendError(res, answer.failure)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const apiError =
        error instanceof ApiError
          ? error
          : new ApiError({
              status: 500,
              code: "internal",
              message: error instanceof Error ? error.message : String(error),
            })
      if (!res.headersSent) sendError(res, apiError)
      else res.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(Number(configured.port), host, () => {
      server.off("error", reject)
      resolve()
    })
  })
  port = (server.address() as AddressInfo).port
  const apiBase = `http://${configured.hostname}:${port}`
  return {
    apiBase,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
