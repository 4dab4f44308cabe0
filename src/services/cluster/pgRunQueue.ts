/**
 * The RunQueue of a cluster, in PostgreSQL. A run is queued by the insert of its record (same
 * transaction: a run acknowledged is a run queued). A node claims runs with `FOR UPDATE SKIP LOCKED`
 * on the sessions that have one waiting: each claim locks the session row, so two nodes never take
 * runs of one session, a session has one run at a time, and within it the oldest goes first. A
 * session whose thread lives on a node (it started it) is only claimed there; one without a thread
 * is claimed by any node with a free slot, and becomes that node's. A node holds at most `limit`
 * claims. Changes are announced with NOTIFY, and polled for as well (a notification is only a hint).
 */
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import type { RunId, SessionId } from "../../domain/ids.ts"
import { type QueuedRun, RunQueue } from "../runs/RunQueue.ts"
import type { StoreError } from "../store/Store.ts"
import type { Database } from "./pgDatabase.ts"

export const QUEUE_CHANNEL = "codexd_queue"

/** The claims of `nodeId`, for `limit` minus those it holds; ordered sessions served longest ago first. */
export const claimRuns = (db: Database, nodeId: string, limit: number) =>
  db.transaction("claim runs from", async (sql) => {
    // A node found lost claims nothing until it registered again (the reaper holds this row meanwhile).
    const self = (await sql("SELECT state FROM codexd_nodes WHERE node_id = $1 FOR SHARE", [nodeId])).rows[0]
    if (self?.state !== "up") return []
    const held = Number(
      (await sql("SELECT count(*) AS n FROM codexd_queue WHERE claimed_by = $1", [nodeId])).rows[0].n,
    )
    const free = limit - held
    if (free <= 0) return []
    const sessions = (
      await sql(
        `SELECT s.session_id FROM codexd_sessions s
          WHERE s.session_id IN (SELECT session_id FROM codexd_queue WHERE claimed_by IS NULL)
            AND s.active_run IS NULL AND (s.owner_node IS NULL OR s.owner_node = $1)
          ORDER BY s.last_served NULLS FIRST, s.created_seq
          LIMIT $2 FOR UPDATE OF s SKIP LOCKED`,
        [nodeId, free],
      )
    ).rows.map((r) => r.session_id as string)
    if (sessions.length === 0) return []
    const claimed = (
      await sql(
        `WITH heads AS (
           SELECT DISTINCT ON (session_id) seq FROM codexd_queue
            WHERE claimed_by IS NULL AND session_id = ANY($2) ORDER BY session_id, seq)
         UPDATE codexd_queue q SET claimed_by = $1, claimed_at = now()
           FROM heads WHERE q.seq = heads.seq
         RETURNING q.run_id, q.session_id, q.seq`,
        [nodeId, sessions],
      )
    ).rows as Array<{ run_id: string; session_id: string; seq: string }>
    claimed.sort((a, b) => Number(a.seq) - Number(b.seq))
    await sql(
      `UPDATE codexd_sessions s
          SET active_run = c.run_id, owner_node = COALESCE(s.owner_node, $1), last_served = nextval('codexd_served')
         FROM unnest($2::text[], $3::text[]) AS c(run_id, session_id)
        WHERE s.session_id = c.session_id`,
      [nodeId, claimed.map((c) => c.run_id), claimed.map((c) => c.session_id)],
    )
    return claimed.map((c) => ({ runId: c.run_id as RunId, sessionId: c.session_id as SessionId }))
  })

/** A failed write of the queue is retried a few times, then logged: the caller cannot do better. */
const persistently = <A>(what: string, effect: Effect.Effect<A, StoreError>, otherwise: A) =>
  effect.pipe(
    Effect.retry({ schedule: Schedule.exponential("50 millis"), times: 5 }),
    Effect.catch((error) => Effect.as(Effect.logError(`${what}: ${error.message}`), otherwise)),
  )

export const makePgRunQueue = (
  db: Database,
  nodeId: string,
  options: { readonly pollMs: number },
): Effect.Effect<RunQueue["Service"], StoreError, Scope.Scope> =>
  Effect.gen(function* () {
    const wakeups = yield* Queue.sliding<void>(1)
    yield* db.listen(QUEUE_CHANNEL, () => {
      Queue.offerUnsafe(wakeups, undefined)
    })
    const notify = db.query("announce to", `NOTIFY ${QUEUE_CHANNEL}`)
    // One claim at a time on this node: the count of what it holds is read and raised in one step.
    const claiming = yield* Semaphore.make(1)
    return RunQueue.of({
      // The insert of the record queued it; the others are told.
      enqueue: () =>
        persistently("cannot announce a queued run", Effect.asVoid(notify), undefined as undefined),
      claim: (limit) =>
        claiming.withPermits(1)(
          persistently<ReadonlyArray<QueuedRun>>("cannot claim runs", claimRuns(db, nodeId, limit), []),
        ),
      release: (run) =>
        persistently(
          `cannot release run ${run.runId}`,
          Effect.andThen(
            db.transaction("release a run in", async (sql) => {
              // Only this node's claim: one handed to another node meanwhile is that node's.
              const released = await sql("DELETE FROM codexd_queue WHERE run_id = $1 AND claimed_by = $2", [
                run.runId,
                nodeId,
              ])
              if (released.rowCount === 0) return
              await sql(
                "UPDATE codexd_sessions SET active_run = NULL WHERE session_id = $1 AND active_run = $2",
                [run.sessionId, run.runId],
              )
            }),
            notify,
          ),
          undefined,
        ).pipe(Effect.asVoid),
      remove: (runId) =>
        persistently(
          `cannot take run ${runId} out of the queue`,
          Effect.map(
            db.query(
              "take a run out of",
              "DELETE FROM codexd_queue WHERE run_id = $1 AND claimed_by IS NULL RETURNING run_id",
              [runId],
            ),
            (rows) => rows.length > 0,
          ),
          false,
        ),
      shared: {
        claimedHere: persistently(
          "cannot read this node's claims",
          Effect.map(
            db.query<{ run_id: RunId }>(
              "read claims from",
              "SELECT run_id FROM codexd_queue WHERE claimed_by = $1",
              [nodeId],
            ),
            (rows) => new Set(rows.map((r) => r.run_id)),
          ),
          new Set<RunId>(),
        ),
        wakeups: Stream.merge(
          Stream.fromQueue(wakeups),
          Stream.fromSchedule(Schedule.spaced(options.pollMs)).pipe(Stream.map(() => undefined)),
        ),
      },
    })
  })
