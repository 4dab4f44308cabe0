/** Events: everything the daemon observes, numbered by a seq that never repeats on one state directory. */
import * as Schema from "effect/Schema"
import { NonNegativeInt, PositiveInt, Timestamp, UnknownRecord } from "./json.ts"

export const EventLevel = Schema.Literals(["error", "info", "warn"])
export type EventLevel = typeof EventLevel.Type

export const RecentEvent = Schema.Struct({
  seq: PositiveInt,
  createdAt: Timestamp,
  level: EventLevel,
  type: Schema.String,
  message: Schema.String,
  detail: Schema.NullOr(UnknownRecord),
})
export type RecentEvent = typeof RecentEvent.Type

/** An event as a producer hands it in, before the EventLog numbers and stamps it. */
export interface EventInput {
  readonly level?: EventLevel
  readonly type: string
  readonly message: string
  readonly detail?: UnknownRecord | null
}

export const RecentEventCacheState = Schema.Struct({
  maxEntries: PositiveInt,
  updatedAt: Schema.NullOr(Timestamp),
  /** The last seq ever assigned; kept apart from `events` so the count survives an empty cache. */
  lastSeq: NonNegativeInt,
  events: Schema.Array(RecentEvent),
})
export type RecentEventCacheState = typeof RecentEventCacheState.Type

export const emptyEventCache = (maxEntries: number): RecentEventCacheState => ({
  maxEntries,
  updatedAt: null,
  lastSeq: 0,
  events: [],
})
