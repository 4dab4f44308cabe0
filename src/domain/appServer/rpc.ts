/**
 * JSON-RPC framing as the app-server speaks it: one JSON message per line, no `"jsonrpc"` field
 * (one is accepted if present), ids that are numbers or strings.
 *
 * Classification is by shape, because the server's own requests reuse small integer ids that collide
 * with ours: `method` + `id` is a request from the server, `id` without `method` is a response to us,
 * `method` without `id` is a notification.
 */
import { type MalformedEvent, malformed } from "./events.ts"
import type { RequestId } from "./wire.ts"

export interface RpcErrorPayload {
  readonly code: number
  readonly message: string
  readonly data?: unknown
}

export type IncomingMessage =
  | { readonly kind: "response"; readonly id: RequestId; readonly result: unknown }
  | { readonly kind: "errorResponse"; readonly id: RequestId | null; readonly error: RpcErrorPayload }
  | { readonly kind: "request"; readonly id: RequestId; readonly method: string; readonly params: unknown }
  | {
      readonly kind: "notification"
      readonly method: string
      readonly params: unknown
      readonly emittedAtMs: number | null
    }
  | { readonly kind: "malformed"; readonly event: MalformedEvent }

const isId = (value: unknown): value is RequestId =>
  (typeof value === "number" && Number.isInteger(value)) || typeof value === "string"

const bad = (line: string, reason: string): IncomingMessage => ({
  kind: "malformed",
  event: malformed(line, reason),
})

export const classifyLine = (line: string): IncomingMessage => {
  let message: unknown
  try {
    message = JSON.parse(line)
  } catch {
    return bad(line, "not JSON")
  }
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    return bad(line, "not a JSON-RPC message (expected an object)")
  }
  const m = message as Record<string, unknown>
  if ("jsonrpc" in m && m.jsonrpc !== "2.0")
    return bad(line, `unsupported jsonrpc version ${JSON.stringify(m.jsonrpc)}`)
  const hasId = "id" in m && m.id !== undefined
  if (typeof m.method === "string") {
    if (!hasId) {
      const emittedAtMs = typeof m.emittedAtMs === "number" ? m.emittedAtMs : null
      return { kind: "notification", method: m.method, params: m.params, emittedAtMs }
    }
    return isId(m.id)
      ? { kind: "request", id: m.id, method: m.method, params: m.params }
      : bad(line, "request id is not a number or string")
  }
  if ("method" in m) return bad(line, "method is not a string")
  if (!hasId) return bad(line, "neither a request, a response nor a notification")
  if ("error" in m) {
    const e = m.error as Record<string, unknown> | null
    if (typeof e !== "object" || e === null || typeof e.code !== "number" || typeof e.message !== "string") {
      // Still the answer to a request: the request fails now rather than wait for its timeout.
      return isId(m.id)
        ? {
            kind: "errorResponse",
            id: m.id,
            error: {
              code: RpcErrorCode.internalError,
              message: "the app-server answered with an error without code and message",
              data: m.error,
            },
          }
        : bad(line, "error response without code and message")
    }
    const payload: RpcErrorPayload =
      "data" in e ? { code: e.code, message: e.message, data: e.data } : { code: e.code, message: e.message }
    if (m.id === null) return { kind: "errorResponse", id: null, error: payload }
    return isId(m.id)
      ? { kind: "errorResponse", id: m.id, error: payload }
      : bad(line, "response id is not a number or string")
  }
  if (!("result" in m)) return bad(line, "response without result or error")
  return isId(m.id)
    ? { kind: "response", id: m.id, result: m.result }
    : bad(line, "response id is not a number or string")
}

/** Outgoing messages. The server does not need `"jsonrpc"`, and omitting it matches what it sends. */
export const encodeRequest = (id: RequestId, method: string, params: unknown): string =>
  JSON.stringify(params === undefined ? { id, method } : { id, method, params })

export const encodeNotification = (method: string, params?: unknown): string =>
  JSON.stringify(params === undefined ? { method } : { method, params })

export const encodeResult = (id: RequestId, result: unknown): string => JSON.stringify({ id, result })

export const encodeError = (id: RequestId, error: RpcErrorPayload): string => JSON.stringify({ id, error })

export const RpcErrorCode = {
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** The server is overloaded; the request can be retried after a back-off. */
  overloaded: -32001,
} as const
