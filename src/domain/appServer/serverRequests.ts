/**
 * Requests the app-server sends to its client (approvals, user input, elicitation). They never time
 * out on the server's side, so every one must be answered: by the caller's handler for the methods
 * codexd knows, with method-not-found for the rest.
 */
import type { Effect } from "effect"
import type { RpcErrorPayload } from "./rpc.ts"
import type { RequestId } from "./wire.ts"

export const SERVER_REQUEST_METHODS = [
  "item/commandExecution/requestApproval",
  "item/fileChange/requestApproval",
  "item/permissions/requestApproval",
  "item/tool/requestUserInput",
  "mcpServer/elicitation/request",
] as const
export type ServerRequestMethod = (typeof SERVER_REQUEST_METHODS)[number]

export const isHandledServerRequest = (method: string): method is ServerRequestMethod =>
  (SERVER_REQUEST_METHODS as ReadonlyArray<string>).includes(method)

export interface ServerRequest {
  readonly id: RequestId
  readonly method: ServerRequestMethod
  readonly params: unknown
}

export type ServerRequestAnswer = { readonly result: unknown } | { readonly error: RpcErrorPayload }

export type ServerRequestHandler = (request: ServerRequest) => Effect.Effect<ServerRequestAnswer>

/** Decisions for command and file-change approvals. */
export type ApprovalDecision = "accept" | "acceptForSession" | "decline" | "cancel"
export const approvalAnswer = (decision: ApprovalDecision): ServerRequestAnswer => ({ result: { decision } })
