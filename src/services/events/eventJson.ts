/**
 * An event's JSON, computed once per event whoever asks: the event log file, every SSE client and
 * the recent-events cache file all write the same text, so it is stringified once, not once per
 * writer (a burst of deltas is tens of thousands of events a second).
 */
import type { RecentEvent, RecentEventCacheState } from "../../domain/event.ts"

/**
 * Kept on the event itself, under a symbol JSON.stringify does not see, not in a WeakMap: a WeakMap
 * of tens of thousands of short-lived keys a second is work for every garbage collection.
 */
const JSON_TEXT = Symbol("codexd/eventJson")

export const serialized = (event: RecentEvent): string => {
  const cached = (event as { [JSON_TEXT]?: string })[JSON_TEXT]
  if (cached !== undefined) return cached
  const text = JSON.stringify(event)
  Object.defineProperty(event, JSON_TEXT, { value: text })
  return text
}

/** The cache file's JSON (one line), from the events' own JSON: saved every burst, never re-stringified. */
export const eventCacheJson = (cache: RecentEventCacheState): string =>
  `{"maxEntries":${cache.maxEntries},"updatedAt":${JSON.stringify(cache.updatedAt)},"lastSeq":${cache.lastSeq},"events":[${cache.events.map(serialized).join(",")}]}`
