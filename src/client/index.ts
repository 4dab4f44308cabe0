/**
 * `codexd/client`: the typed client of a running codexd, for programs.
 *
 *   import { CodexdClient } from "codexd/client"
 *   const codexd = await CodexdClient.connect()
 *   const run = await codexd.run("explain this repo")
 */
export type { ApprovalDecision, ApprovalRecord } from "../domain/approval.ts"
export type { RecentEvent } from "../domain/event.ts"
export type { RunErrorCode, RunRecord, RunStatus } from "../domain/run.ts"
export type { RunResult } from "../domain/runResult.ts"
export type { SessionRecord } from "../domain/session.ts"
export type { StatusSnapshot } from "../domain/status.ts"
export type { ReviewTarget, RunOperation } from "../domain/threadOperations.ts"
export type { ImageInput, SandboxDetails } from "../domain/turnOptions.ts"
export {
  CodexdClient,
  type ConnectOptions,
  type EventsOptions,
  type RunOptions,
  type RunStreamEvent,
  type SessionOptions,
} from "./CodexdClient.ts"
export {
  type CodexdClientError,
  ConflictError,
  DaemonError,
  DaemonNotRunningError,
  InvalidRequestError,
  NotFoundError,
  UnauthorizedError,
} from "./clientErrors.ts"
