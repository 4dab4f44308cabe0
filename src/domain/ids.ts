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

export const newDaemonId = (): DaemonId => DaemonId.make(newId("daemon"))
export const newSessionId = (): SessionId => SessionId.make(newId("session"))
export const newRunId = (): RunId => RunId.make(newId("run"))
export const newApprovalId = (): string => newId("approval")
