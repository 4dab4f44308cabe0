/**
 * Reading an approval request from codex and writing the answer it expects. Pure. Command and
 * file-change approvals answer with a decision; a permissions request answers with the permissions
 * granted (all that were asked, or none) and for how long.
 */

import type { ApprovalDecision, ApprovalKind } from "../../domain/approval.ts"
import type { ServerRequest, ServerRequestAnswer } from "../../domain/appServer/serverRequests.ts"

export interface ApprovalRequestDetails {
  readonly kind: ApprovalKind
  readonly threadId: string | null
  readonly turnId: string | null
  readonly itemId: string | null
  readonly command: string | null
  readonly cwd: string | null
  readonly reason: string | null
  readonly availableDecisions: ReadonlyArray<ApprovalDecision>
}

const ALL_DECISIONS: ReadonlyArray<ApprovalDecision> = ["accept", "acceptForSession", "decline", "cancel"]

const KINDS: Readonly<Record<string, ApprovalKind>> = {
  "item/commandExecution/requestApproval": "command",
  "item/fileChange/requestApproval": "fileChange",
  "item/permissions/requestApproval": "permissions",
}

const record = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}

const text = (value: unknown): string | null => (typeof value === "string" ? value : null)

/** The details of an approval request, or null when the request is not an approval (user input, MCP). */
export const approvalRequestDetails = (request: ServerRequest): ApprovalRequestDetails | null => {
  const kind = KINDS[request.method]
  if (kind === undefined) return null
  const params = record(request.params)
  return {
    kind,
    threadId: text(params.threadId),
    turnId: text(params.turnId),
    itemId: text(params.itemId),
    command: text(params.command),
    cwd: text(params.cwd),
    reason: text(params.reason),
    availableDecisions: ALL_DECISIONS,
  }
}

/** The answer codex expects for `decision` on this request. */
export const approvalAnswerFor = (
  request: ServerRequest,
  decision: ApprovalDecision,
): ServerRequestAnswer => {
  if (request.method !== "item/permissions/requestApproval") return { result: { decision } }
  const granted = decision === "accept" || decision === "acceptForSession"
  const asked = record(record(request.params).permissions)
  const permissions = granted
    ? Object.fromEntries(Object.entries(asked).filter(([, value]) => value !== null && value !== undefined))
    : {}
  return { result: { permissions, scope: decision === "acceptForSession" ? "session" : "turn" } }
}

/** The answer for server requests that are not approvals: codexd has no one to ask, so it declines. */
export const declineNonApproval = (request: ServerRequest): ServerRequestAnswer =>
  request.method === "item/tool/requestUserInput"
    ? { result: { answers: {} } }
    : { result: { action: "decline", content: null, _meta: null } }
