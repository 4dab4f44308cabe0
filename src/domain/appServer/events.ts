/**
 * Notifications from the app-server as a typed event union. Each known method has a schema for its
 * params and an event `type`; the event is the params spread beside `type`, `notificationMethod` and
 * the server's `emittedAtMs`. Unknown methods, and known ones whose params do not match, pass through
 * as a generic `notification` (with the decode error for the latter): nothing the server says is lost.
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { decodeValue } from "../decode.ts"
import { PlanStep, Thread, ThreadItem, ThreadStatus, Turn, TurnError } from "./protocol.ts"
import { JsonObject, openStruct, optional, RequestId } from "./wire.ts"

const turnRef = { threadId: Schema.String, turnId: Schema.String }
const itemRef = { ...turnRef, itemId: Schema.String }

/** method → [event type, params schema] */
export const notificationTable = {
  "thread/started": ["thread.started", openStruct({ thread: Thread })],
  "thread/status/changed": [
    "thread.status.changed",
    openStruct({ threadId: Schema.String, status: ThreadStatus }),
  ],
  "thread/closed": ["thread.closed", openStruct({ threadId: Schema.String })],
  "thread/tokenUsage/updated": [
    "thread.tokenUsage.updated",
    openStruct({ ...turnRef, tokenUsage: JsonObject }),
  ],
  "turn/started": ["turn.started", openStruct({ threadId: Schema.String, turn: Turn })],
  "turn/completed": ["turn.completed", openStruct({ threadId: Schema.String, turn: Turn })],
  "turn/diff/updated": ["turn.diff.updated", openStruct({ ...turnRef, diff: Schema.String })],
  "turn/plan/updated": [
    "turn.plan.updated",
    openStruct({
      ...turnRef,
      explanation: optional(Schema.NullOr(Schema.String)),
      plan: Schema.Array(PlanStep),
    }),
  ],
  "item/started": ["item.started", openStruct({ ...turnRef, item: ThreadItem })],
  "item/completed": ["item.completed", openStruct({ ...turnRef, item: ThreadItem })],
  "item/agentMessage/delta": ["turn.message.delta", openStruct({ ...itemRef, delta: Schema.String })],
  "item/plan/delta": ["turn.plan.delta", openStruct({ ...itemRef, delta: Schema.String })],
  "item/commandExecution/outputDelta": [
    "item.commandExecution.outputDelta",
    openStruct({ ...itemRef, delta: Schema.String }),
  ],
  "command/exec/outputDelta": [
    "command.output.delta",
    openStruct({
      processId: Schema.String,
      stream: Schema.Literals(["stdout", "stderr"]),
      deltaBase64: Schema.String,
      capReached: Schema.Boolean,
    }),
  ],
  error: ["turn.error", openStruct({ ...turnRef, error: TurnError, willRetry: Schema.Boolean })],
  "serverRequest/resolved": [
    "serverRequest.resolved",
    openStruct({ threadId: Schema.String, requestId: RequestId }),
  ],
  warning: [
    "warning",
    openStruct({ threadId: optional(Schema.NullOr(Schema.String)), message: Schema.String }),
  ],
  configWarning: [
    "config.warning",
    openStruct({ summary: Schema.String, details: optional(Schema.NullOr(Schema.String)) }),
  ],
} as const

type Table = typeof notificationTable
export type KnownNotificationMethod = keyof Table

interface EventBase<M extends string, T extends string> {
  readonly type: T
  readonly notificationMethod: M
  /** When the server emitted it (ms since the epoch), if it said. */
  readonly emittedAtMs: number | null
}

export type KnownAppServerEvent = {
  [M in KnownNotificationMethod]: EventBase<M, Table[M][0]> & Table[M][1]["Type"]
}[KnownNotificationMethod]

export type GenericNotificationEvent = EventBase<string, "notification"> & {
  readonly params: unknown
  /** Set when a known method's params did not match its schema. */
  readonly decodeError?: string
}

/** A line that is not JSON or not a JSON-RPC message: reported, never fatal. */
export interface MalformedEvent {
  readonly type: "malformed"
  readonly reason: string
  /** The start of the offending line, bounded so a 20 MiB line cannot flood logs. */
  readonly excerpt: string
  readonly length: number
}

/** A request from the server that codexd does not handle; it was answered method-not-found. */
export interface UnsupportedServerRequestEvent {
  readonly type: "serverRequest.unsupported"
  readonly method: string
  readonly id: number | string
  readonly params: unknown
}

/** The transport closed; always the last event of a connection. */
export interface TransportClosedEvent {
  readonly type: "transport.closed"
  readonly reason: string
}

export type AppServerEvent =
  | KnownAppServerEvent
  | GenericNotificationEvent
  | MalformedEvent
  | UnsupportedServerRequestEvent
  | TransportClosedEvent

const decoders = new Map<string, readonly [string, (input: unknown) => Result.Result<object, Error>]>(
  Object.entries(notificationTable).map(([method, [type, schema]]) => [
    method,
    [type, decodeValue(schema as Schema.ConstraintDecoder<object>, `${method} params`)] as const,
  ]),
)

/**
 * The streaming deltas (tens of thousands a second in a long answer) are checked field by field
 * instead of through their schema, which would build a decoded copy of each. Their schema is four
 * strings in an open struct; what fails this check still goes through the schema, for its message.
 */
const STREAMING_DELTAS = new Set([
  "item/agentMessage/delta",
  "item/plan/delta",
  "item/commandExecution/outputDelta",
])
const ITEM_DELTA_FIELDS = ["threadId", "turnId", "itemId", "delta"] as const
const isItemDelta = (params: unknown): params is Record<(typeof ITEM_DELTA_FIELDS)[number], string> =>
  typeof params === "object" &&
  params !== null &&
  ITEM_DELTA_FIELDS.every((field) => typeof (params as Record<string, unknown>)[field] === "string")

/** Turn one notification into an event. */
export const toAppServerEvent = (
  method: string,
  params: unknown,
  emittedAtMs: number | null,
): AppServerEvent => {
  const entry = decoders.get(method)
  if (entry === undefined) return { type: "notification", notificationMethod: method, emittedAtMs, params }
  const [type, decode] = entry
  if (STREAMING_DELTAS.has(method) && isItemDelta(params))
    return { ...params, type, notificationMethod: method, emittedAtMs } as KnownAppServerEvent
  const decoded = decode(params ?? {})
  if (Result.isFailure(decoded)) {
    return {
      type: "notification",
      notificationMethod: method,
      emittedAtMs,
      params,
      decodeError: decoded.failure.message,
    }
  }
  return { ...decoded.success, type, notificationMethod: method, emittedAtMs } as KnownAppServerEvent
}

export const EXCERPT_LIMIT = 512

export const malformed = (line: string, reason: string): MalformedEvent => ({
  type: "malformed",
  reason,
  excerpt: line.length > EXCERPT_LIMIT ? `${line.slice(0, EXCERPT_LIMIT)}…` : line,
  length: line.length,
})
