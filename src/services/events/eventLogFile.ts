/**
 * The structured event log file (`events.jsonl`): one line per event, the event's JSON exactly as the
 * EventLog serialised it once (already redacted), appended through pino's asynchronous file writer
 * (sonic-boom) so a burst of events costs a few writes, not one per event. No pino logger on top:
 * its formatter would copy and redact every event a second time.
 *
 * `serialized` keeps each event's JSON beside it, so the event stream sends the same text to every
 * client instead of stringifying the event once per client.
 */
import { dirname } from "node:path"
import pino from "pino"
import type { RecentEvent } from "../../domain/event.ts"
import { type RotationPolicy, rotateDestination } from "../../system/logRotation.ts"
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "../../system/privateFiles.ts"

const json = new WeakMap<RecentEvent, string>()

/** The event's JSON, computed once per event whoever asks. */
export const serialized = (event: RecentEvent): string => {
  let text = json.get(event)
  if (text === undefined) {
    text = JSON.stringify(event)
    json.set(event, text)
  }
  return text
}

export interface EventLogFile {
  readonly append: (event: RecentEvent) => void
  /** Calls back once sonic-boom has handed what it holds to the file. */
  readonly flush: (done: () => void) => void
}

export const openEventLogFile = (path: string, rotation: RotationPolicy): EventLogFile => {
  ensurePrivateDir(dirname(path))
  const destination = pino.destination({ dest: path, sync: false, mode: PRIVATE_FILE_MODE })
  rotateDestination(destination, path, rotation)
  return {
    append: (event) => {
      destination.write(`${serialized(event)}\n`)
    },
    flush: (done) => destination.flush(() => done()),
  }
}
