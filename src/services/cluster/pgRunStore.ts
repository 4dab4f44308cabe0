/**
 * The RunStore of a cluster: run and session records in PostgreSQL, so every node lists and shows
 * every run and session. An update locks the row (`SELECT … FOR UPDATE`), applies the change to the
 * record as stored and writes it back in the same transaction: updates from several nodes are
 * ordered as the file store's are within one daemon. A session whose thread starts is owned by the
 * node it started on (its thread lives in that node's CODEX_HOME).
 */
import * as Effect from "effect/Effect"
import type { RunId, SessionId } from "../../domain/ids.ts"
import type { RunRecord } from "../../domain/run.ts"
import type { SessionRecord } from "../../domain/session.ts"
import { nowIso } from "../now.ts"
import { nextRunRecord, RunStore } from "../store/RunStore.ts"
import type { Database, Sql } from "./pgDatabase.ts"

const lockedRecord = async <R>(sql: Sql, table: string, key: string, id: string): Promise<R | null> => {
  const rows = (await sql(`SELECT record FROM ${table} WHERE ${key} = $1 FOR UPDATE`, [id])).rows
  return rows.length === 0 ? null : (rows[0].record as R)
}

export const makePgRunStore = (db: Database, nodeId: string): RunStore["Service"] =>
  RunStore.of({
    runs: {
      get: (runId) =>
        Effect.map(
          db.query<{ record: RunRecord }>("read run", "SELECT record FROM codexd_runs WHERE run_id = $1", [
            runId,
          ]),
          (rows) => rows[0]?.record ?? null,
        ),
      list: Effect.map(
        db.query<{ record: RunRecord }>("list runs", "SELECT record FROM codexd_runs ORDER BY created_seq"),
        (rows) => rows.map((r) => r.record),
      ),
      // A queued run is queued by the same transaction that records it: acknowledged means queued.
      insert: (record) =>
        db.transaction("insert run", async (sql) => {
          // Runs of one session are inserted one after another: their sequence numbers are then
          // their commit order, and the queue hands them out in the order their submitters were told
          // they were accepted (two nodes inserting at once could otherwise commit out of order).
          if (record.sessionId !== null)
            await sql("SELECT 1 FROM codexd_sessions WHERE session_id = $1 FOR UPDATE", [record.sessionId])
          await sql("INSERT INTO codexd_runs (run_id, session_id, status, record) VALUES ($1, $2, $3, $4)", [
            record.runId,
            record.sessionId,
            record.status,
            record,
          ])
          if (record.status === "queued" && record.sessionId !== null)
            await sql("INSERT INTO codexd_queue (run_id, session_id) VALUES ($1, $2)", [
              record.runId,
              record.sessionId,
            ])
        }),
      update: (runId: RunId, f) =>
        Effect.flatMap(nowIso, (now) =>
          db.transaction("update run", async (sql) => {
            const run = await lockedRecord<RunRecord>(sql, "codexd_runs", "run_id", runId)
            if (run === null) return null
            // Fenced: a run in the queue changes only by the node holding its claim. A node that was
            // found lost while starting a run it claimed cannot record it running (and so start its
            // turn) once the run was handed to another node.
            const claim = (
              await sql("SELECT claimed_by FROM codexd_queue WHERE run_id = $1 FOR SHARE", [runId])
            ).rows[0]
            if (claim !== undefined && claim.claimed_by !== nodeId) return run
            const next = nextRunRecord(run, f, now)
            if (next !== run)
              await sql("UPDATE codexd_runs SET record = $2, status = $3 WHERE run_id = $1", [
                runId,
                next,
                next.status,
              ])
            return next
          }),
        ),
    },
    sessions: {
      get: (sessionId) =>
        Effect.map(
          db.query<{ record: SessionRecord }>(
            "read session",
            "SELECT record FROM codexd_sessions WHERE session_id = $1",
            [sessionId],
          ),
          (rows) => rows[0]?.record ?? null,
        ),
      list: Effect.map(
        db.query<{ record: SessionRecord }>(
          "list sessions",
          "SELECT record FROM codexd_sessions ORDER BY created_seq",
        ),
        (rows) => rows.map((r) => r.record),
      ),
      insert: (record) =>
        Effect.asVoid(
          db.query(
            "insert session",
            "INSERT INTO codexd_sessions (session_id, owner_node, record) VALUES ($1, $2, $3)",
            [record.sessionId, record.threadId === null ? null : nodeId, record],
          ),
        ),
      update: (sessionId: SessionId, f) =>
        Effect.flatMap(nowIso, (now) =>
          db.transaction("update session", async (sql) => {
            const session = await lockedRecord<SessionRecord>(sql, "codexd_sessions", "session_id", sessionId)
            if (session === null) return null
            const next = { ...f(session), updatedAt: now }
            await sql(
              `UPDATE codexd_sessions SET record = $2,
                 owner_node = CASE WHEN owner_node IS NULL AND $3::boolean THEN $4 ELSE owner_node END
               WHERE session_id = $1`,
              [sessionId, next, next.threadId !== null, nodeId],
            )
            return next
          }),
        ),
    },
  })
