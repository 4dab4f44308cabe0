/**
 * The app-server requests codexd makes, their params and results, and the records they carry
 * (threads, turns, user input, policies). Field names follow the pinned codex's own schema
 * (`codex app-server generate-json-schema`).
 */
import * as Schema from "effect/Schema"
import { JsonObject, openStruct, optional } from "./wire.ts"

// --- records ----------------------------------------------------------------------------------

export const ThreadActiveFlag = Schema.Literals(["waitingOnApproval", "waitingOnUserInput"])

export const ThreadStatus = Schema.Union([
  Schema.Struct({ type: Schema.Literal("notLoaded") }),
  Schema.Struct({ type: Schema.Literal("idle") }),
  Schema.Struct({ type: Schema.Literal("systemError") }),
  Schema.Struct({ type: Schema.Literal("active"), activeFlags: Schema.Array(Schema.String) }),
])
export type ThreadStatus = typeof ThreadStatus.Type

export const TurnStatus = Schema.Literals(["completed", "interrupted", "failed", "inProgress"])
export type TurnStatus = typeof TurnStatus.Type

export const TurnError = openStruct({
  message: Schema.String,
  codexErrorInfo: optional(Schema.NullOr(Schema.Unknown)),
  additionalDetails: optional(Schema.NullOr(Schema.String)),
})
export type TurnError = typeof TurnError.Type

/** An item of a turn (agent message, command execution, file change, ...); typed by `type`. */
export const ThreadItem = openStruct({ type: Schema.String, id: Schema.String })
export type ThreadItem = typeof ThreadItem.Type

export const Turn = openStruct({
  id: Schema.String,
  status: TurnStatus,
  error: optional(Schema.NullOr(TurnError)),
  items: optional(Schema.Array(ThreadItem)),
})
export type Turn = typeof Turn.Type

export const Thread = openStruct({
  id: Schema.String,
  preview: optional(Schema.String),
  ephemeral: optional(Schema.Boolean),
  modelProvider: optional(Schema.String),
  model: optional(Schema.NullOr(Schema.String)),
  createdAt: optional(Schema.Number),
  updatedAt: optional(Schema.Number),
  status: optional(ThreadStatus),
  cwd: optional(Schema.String),
  cliVersion: optional(Schema.String),
  source: optional(Schema.Unknown),
  name: optional(Schema.NullOr(Schema.String)),
  turns: optional(Schema.Array(Turn)),
})
export type Thread = typeof Thread.Type

export const PlanStep = Schema.Struct({
  step: Schema.String,
  status: Schema.Literals(["pending", "inProgress", "completed"]),
})

// --- policies and input -------------------------------------------------------------------------

export const AskForApproval = Schema.Union([
  Schema.Literals(["untrusted", "on-failure", "on-request", "never"]),
  Schema.Struct({ granular: JsonObject }),
])
export type AskForApproval = typeof AskForApproval.Type

export const SandboxMode = Schema.Literals(["read-only", "workspace-write", "danger-full-access"])
export type SandboxMode = typeof SandboxMode.Type

/** codex's sandbox policy (`turn/start`), as the pinned codex 0.169.0 defines it. */
export type SandboxPolicy =
  | { readonly type: "dangerFullAccess" }
  | { readonly type: "readOnly"; readonly networkAccess: boolean }
  | { readonly type: "externalSandbox"; readonly networkAccess: "restricted" | "enabled" }
  | {
      readonly type: "workspaceWrite"
      readonly writableRoots: ReadonlyArray<string>
      readonly networkAccess: boolean
      readonly excludeTmpdirEnvVar: boolean
      readonly excludeSlashTmp: boolean
    }

export interface TextElement {
  readonly byteRange: { readonly start: number; readonly end: number }
  readonly placeholder: string | null
}

export type UserInput =
  | { readonly type: "text"; readonly text: string; readonly text_elements: ReadonlyArray<TextElement> }
  | { readonly type: "image"; readonly url: string }
  | { readonly type: "localImage"; readonly path: string }
  | { readonly type: "skill"; readonly name: string; readonly path: string }
  | { readonly type: "mention"; readonly name: string; readonly path: string }

export const textInput = (text: string, textElements: ReadonlyArray<TextElement> = []): UserInput => ({
  type: "text",
  text,
  text_elements: textElements,
})

// --- requests -----------------------------------------------------------------------------------

export interface ClientInfo {
  readonly name: string
  readonly title: string | null
  readonly version: string
}

export interface InitializeParams {
  readonly clientInfo: ClientInfo
  readonly capabilities: {
    readonly experimentalApi: boolean
    readonly optOutNotificationMethods?: ReadonlyArray<string> | null
  } | null
}

export const InitializeResult = openStruct({
  userAgent: Schema.String,
  codexHome: optional(Schema.String),
  platformFamily: optional(Schema.String),
  platformOs: optional(Schema.String),
})
export type InitializeResult = typeof InitializeResult.Type

interface ThreadSettings {
  readonly model?: string | null
  readonly modelProvider?: string | null
  readonly serviceTier?: string | null
  readonly cwd?: string | null
  readonly approvalPolicy?: AskForApproval | null
  readonly sandbox?: SandboxMode | null
  readonly config?: Readonly<Record<string, unknown>> | null
  readonly baseInstructions?: string | null
  readonly developerInstructions?: string | null
  readonly personality?: string | null
}

export interface ThreadStartParams extends ThreadSettings {
  readonly serviceName?: string | null
  readonly ephemeral?: boolean | null
}

export interface ThreadResumeParams extends ThreadSettings {
  readonly threadId: string
  readonly excludeTurns?: boolean
}

/** What thread/start and thread/resume answer: the thread and the settings it runs with. */
export const ThreadSessionResult = openStruct({
  thread: Thread,
  model: optional(Schema.String),
  modelProvider: optional(Schema.String),
  serviceTier: optional(Schema.NullOr(Schema.String)),
  cwd: optional(Schema.String),
  approvalPolicy: optional(Schema.Unknown),
  sandbox: optional(Schema.Unknown),
  reasoningEffort: optional(Schema.NullOr(Schema.String)),
})
export type ThreadSessionResult = typeof ThreadSessionResult.Type

export interface ThreadReadParams {
  readonly threadId: string
  readonly includeTurns?: boolean
}
export const ThreadReadResult = openStruct({ thread: Thread })
export type ThreadReadResult = typeof ThreadReadResult.Type

export interface ThreadListParams {
  readonly cursor?: string | null
  readonly limit?: number | null
  readonly archived?: boolean | null
}
export const ThreadListResult = openStruct({
  data: Schema.Array(Thread),
  nextCursor: Schema.NullOr(Schema.String),
})
export type ThreadListResult = typeof ThreadListResult.Type

export interface ThreadUnsubscribeParams {
  readonly threadId: string
}
export const ThreadUnsubscribeResult = openStruct({ status: optional(Schema.String) })

export interface TurnStartParams {
  readonly threadId: string
  readonly input: ReadonlyArray<UserInput>
  /** Kept on the turn's `userMessage` item as `clientId`: how a turn is found again by who sent it. */
  readonly clientUserMessageId?: string | null
  readonly cwd?: string | null
  readonly approvalPolicy?: AskForApproval | null
  readonly sandboxPolicy?: SandboxPolicy | null
  readonly model?: string | null
  readonly serviceTier?: string | null
  readonly effort?: string | null
  readonly summary?: unknown
  readonly personality?: string | null
  readonly outputSchema?: unknown
}
export const TurnStartResult = openStruct({ turn: Turn })
export type TurnStartResult = typeof TurnStartResult.Type

export interface TurnSteerParams {
  readonly threadId: string
  readonly input: ReadonlyArray<UserInput>
  readonly expectedTurnId: string
}
export const TurnSteerResult = openStruct({ turnId: Schema.String })
export type TurnSteerResult = typeof TurnSteerResult.Type

export interface TurnInterruptParams {
  readonly threadId: string
  readonly turnId: string
}
export const EmptyResult = JsonObject

export interface ThreadForkParams {
  readonly threadId: string
  /** Fork through this turn, inclusive; later turns are left out. */
  readonly lastTurnId?: string | null
}

export interface ThreadRevertParams {
  readonly threadId: string
  /** This turn and every later one leave the thread's history. */
  readonly beforeTurnId: string
}
export const ThreadRevertResult = openStruct({ thread: Thread })
export type ThreadRevertResult = typeof ThreadRevertResult.Type

export interface ThreadCompactStartParams {
  readonly threadId: string
}

export interface ReviewStartParams {
  readonly threadId: string
  readonly target: unknown
  readonly delivery?: "inline" | null
}
export const ReviewStartResult = openStruct({ turn: Turn, reviewThreadId: optional(Schema.String) })
export type ReviewStartResult = typeof ReviewStartResult.Type
