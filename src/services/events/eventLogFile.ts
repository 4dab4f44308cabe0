/**
 * The structured event log file (`events.jsonl`): one line per event, the event's JSON exactly as the
 * EventLog serialised it once (already redacted), appended through pino's asynchronous file writer
 * (sonic-boom) so a burst of events costs a few writes, not one per event. No pino logger on top:
 * its formatter would copy and redact every event a second time.
 */
import { dirname } from "node:path"
import pino from "pino"
import type { RecentEvent } from "../../domain/event.ts"
import { type RotationPolicy, rotateDestination } from "../../system/logRotation.ts"
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "../../system/privateFiles.ts"
import { serialized } from "./eventJson.ts"

export interface EventLogFile {
  readonly append: (event: RecentEvent) => void
  /** Calls back once sonic-boom has handed what it holds to the file. */
  readonly flush: (done: () => void) => void
}

export const openEventLogFile = (path: string, rotation: RotationPolicy): EventLogFile => {
  ensurePrivateDir(dirname(path))
  const destination = pino.destination({ dest: path, sync: false, mode: PRIVATE_FILE_MODE })
  rotateDestination(destination, path, rotation)
  /**
   * The lines of one burst are handed over as one string, in a microtask (before any IO could run).
   * sonic-boom measures the byte length of the text it holds on every write, which made a write per
   * event cost the whole pending buffer again (measured: 8 KB allocated per event at 20,000 a second).
   */
  let pending: Array<string> = []
  const handOver = () => {
    if (pending.length === 0) return
    // Joined with its last newline: `join` gives a flat string, and adding "\n" after it would make
    // a rope that sonic-boom's byteLength copies once more.
    pending.push("")
    const lines = pending.join("\n")
    pending = []
    destination.write(lines)
  }
  return {
    append: (event) => {
      if (pending.length === 0) queueMicrotask(handOver)
      pending.push(serialized(event))
    },
    flush: (done) => {
      handOver()
      destination.flush(() => done())
    },
  }
}
