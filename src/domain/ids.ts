/**
 * Branded identifiers. A run id cannot be passed where a session id is expected, and every id that
 * enters the daemon (from a file, an HTTP body, argv) is decoded through these schemas first.
 */
import * as Schema from "effect/Schema"

export const DaemonId = Schema.NonEmptyString.pipe(Schema.brand("DaemonId"))
export type DaemonId = typeof DaemonId.Type

export const SessionId = Schema.NonEmptyString.pipe(Schema.brand("SessionId"))
export type SessionId = typeof SessionId.Type

export const RunId = Schema.NonEmptyString.pipe(Schema.brand("RunId"))
export type RunId = typeof RunId.Type

/** Ids carry a readable prefix so that a stray id in a log says what it names. */
const newId = (prefix: string): string => `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`

/** Whether `text` is a whole id of this kind as `newId` makes them (not a prefix of one). */
export const isWholeId = (prefix: "run" | "session", text: string): boolean =>
  new RegExp(`^${prefix}_[0-9a-f]{32}$`).test(text)

export const newDaemonId = (): DaemonId => DaemonId.make(newId("daemon"))
export const newSessionId = (): SessionId => SessionId.make(newId("session"))
export const newRunId = (): RunId => RunId.make(newId("run"))
export const newApprovalId = (): string => newId("approval")
