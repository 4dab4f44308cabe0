/**
 * The HTTP plumbing of the local API: JSON answers and errors in one shape, bodies read with a size
 * limit, and the checks every request passes first (the Host header, the bearer token).
 */
import { timingSafeEqual } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import * as Schema from "effect/Schema"

export const MAX_BODY_BYTES = 1024 * 1024

/** An answer the API gives on purpose: a status and the `{ error: { code, message } }` body. */
export class ApiError extends Schema.TaggedError<ApiError>()("ApiError", {
  status: Schema.Int,
  code: Schema.String,
  message: Schema.String,
  /** The field of the request at fault (`prompt`, `images[0].path`), when one is. */
  path: Schema.optionalKey(Schema.String),
}) {}

const tooLarge = () =>
  new ApiError({ status: 413, code: "body-too-large", message: `the body is over ${MAX_BODY_BYTES} bytes` })

export const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
  const text = `${JSON.stringify(body)}\n`
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  })
  res.end(text)
}

export const sendError = (res: ServerResponse, error: ApiError): void =>
  sendJson(res, error.status, {
    error: {
      code: error.code,
      message: error.message,
      ...(error.path === undefined ? {} : { path: error.path }),
    },
  })

/** The body as JSON; 413 past the limit, 400 when it is not JSON. An empty body is `{}`. */
export const readJsonBody = (req: IncomingMessage): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? "0")
    if (declared > MAX_BODY_BYTES) {
      reject(tooLarge())
      req.resume()
      return
    }
    const chunks: Array<Buffer> = []
    let size = 0
    let failed = false
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES && !failed) {
        failed = true
        reject(tooLarge())
      }
      if (!failed) chunks.push(chunk)
    })
    req.on("error", (error) =>
      reject(new ApiError({ status: 400, code: "bad-body", message: error.message })),
    )
    req.on("end", () => {
      if (failed) return
      const text = Buffer.concat(chunks).toString("utf8")
      if (text.trim() === "") {
        resolve({})
        return
      }
      try {
        resolve(JSON.parse(text))
      } catch {
        reject(new ApiError({ status: 400, code: "bad-json", message: "the body is not valid JSON" }))
      }
    })
  })

/**
 * The Host a request must carry: the loopback address and port the API listens on, as configured
 * (`127.0.0.2`) or as the usual loopback names (DNS rebinding makes a hostile page's requests arrive
 * with the attacker's host name).
 */
export const hostAllowed = (host: string | undefined, port: number, configuredHost: string): boolean => {
  if (host === undefined) return false
  const names = new Set(["127.0.0.1", "localhost", "[::1]", configuredHost.toLowerCase()])
  return [...names].some((name) => host.toLowerCase() === `${name}:${port}`)
}

/**
 * Why a request's target cannot be trusted, or null: more than one Host header (proxies and servers
 * disagree on which counts), or an absolute-form target (`GET http://other/...`) naming another host.
 */
export const targetProblem = (req: IncomingMessage): string | null => {
  let hosts = 0
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]?.toLowerCase() === "host") hosts++
  if (hosts > 1) return "more than one Host header"
  const target = req.url ?? "/"
  if (target.startsWith("/")) return null
  try {
    return new URL(target).host.toLowerCase() === (req.headers.host ?? "").toLowerCase()
      ? null
      : "the request target names another host"
  } catch {
    return "the request target is not a path"
  }
}

export const tokenMatches = (header: string | undefined, token: string): boolean => {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "")
  if (match === null) return false
  const given = Buffer.from(match[1] as string)
  const expected = Buffer.from(token)
  return given.length === expected.length && timingSafeEqual(given, expected)
}
