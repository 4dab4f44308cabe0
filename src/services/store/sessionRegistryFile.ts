/** The session registry's files: `sessions.json` (snapshot) and `sessions.journal.jsonl` (changes since). */
import { SessionRecord, SessionRegistryState } from "../../domain/session.ts"
import { type RegistryShape, snapshotSchema } from "./journaledRegistry.ts"

export const SessionRegistrySnapshot = snapshotSchema(SessionRegistryState)

export const sessionRegistryShape: RegistryShape<SessionRecord> = {
  record: SessionRecord,
  idOf: (session) => session.sessionId,
  encodeSnapshot: ({ updatedAt, journalSeq, records }) =>
    `${JSON.stringify({ updatedAt, journalSeq, sessions: records }, null, 1)}\n`,
}
