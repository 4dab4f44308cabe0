/**
 * Node leases: each node registers, heartbeats, and looks for nodes whose lease ran out (no
 * heartbeat for `leaseMs`, by the database's clock so the nodes' clocks need not agree). Whichever
 * node sees a lost node first ends what that node held, once, under row locks:
 *
 * - a claimed run that never started, of a session with no thread yet: back in the queue, for any node;
 * - any other claimed run (it may have started a turn): failed `node-lost`, never run again;
 * - runs waiting for a session whose thread lives on a lost node: failed `node-lost`.
 *
 * A node that comes back (restarted within the lease, or found its lease taken) registers again:
 * the runs it claimed and had not started go back to the queue; its sessions are served again.
 */
import * as Effect from "effect/Effect"
import type { EventInput } from "../../domain/event.ts"
import type { RunFailure, RunRecord } from "../../domain/run.ts"
import { endOfRun } from "../../domain/runEnd.ts"
import { RunResultBuilder } from "../../domain/runResult.ts"
import type { SessionRecord } from "../../domain/session.ts"
import { nextRunRecord } from "../store/RunStore.ts"
import type { StoreError } from "../store/Store.ts"
import type { Database, Sql } from "./pgDatabase.ts"

export interface NodeFacts {
  readonly nodeId: string
  readonly apiBase: string | null
  readonly maxRuns: number
}

const nodeLost = (nodeId: string): RunFailure => ({
  code: "node-lost",
  message: `node ${nodeId} was lost (no heartbeat within its lease) while it held the run`,
})

/** Fail one run as `node-lost` inside `sql`'s transaction; the event to publish once committed. */
const failLost = async (sql: Sql, runId: string, nodeId: string, now: string): Promise<EventInput | null> => {
  const rows = (await sql("SELECT record FROM codexd_runs WHERE run_id = $1 FOR UPDATE", [runId])).rows
  await sql("DELETE FROM codexd_queue WHERE run_id = $1", [runId])
  if (rows.length === 0) return null
  const run = rows[0].record as RunRecord
  const end = endOfRun({
    run,
    result: { ...new RunResultBuilder().result(), threadId: run.threadId, turnId: run.turnId },
    failure: nodeLost(nodeId),
    finishedAt: now,
  })
  const next = nextRunRecord(run, end.update, now)
  if (next === run) return null
  await sql("UPDATE codexd_runs SET record = $2, status = $3 WHERE run_id = $1", [runId, next, next.status])
  if (run.sessionId !== null && run.status === "running") {
    const session = (
      await sql("SELECT record FROM codexd_sessions WHERE session_id = $1 FOR UPDATE", [run.sessionId])
    ).rows[0]?.record as SessionRecord | undefined
    if (session !== undefined)
      await sql("UPDATE codexd_sessions SET record = $2 WHERE session_id = $1", [
        run.sessionId,
        {
          ...session,
          currentTurnId: null,
          lastTurnId: end.sessionTurn.turnId ?? session.lastTurnId,
          lastTurnStatus: "failed",
          updatedAt: now,
        },
      ])
  }
  if (run.sessionId !== null)
    await sql("UPDATE codexd_sessions SET active_run = NULL WHERE session_id = $1 AND active_run = $2", [
      run.sessionId,
      runId,
    ])
  return end.event
}

/** Register (or come back): claimed runs not started go back to the queue. */
export const registerNode = (db: Database, node: NodeFacts): Effect.Effect<void, StoreError> =>
  db.transaction("register the node in", async (sql) => {
    await sql(
      `INSERT INTO codexd_nodes (node_id, api_base, max_runs, state, started_at, heartbeat_at)
       VALUES ($1, $2, $3, 'up', now(), now())
       ON CONFLICT (node_id) DO UPDATE SET api_base = $2, max_runs = $3, state = 'up', started_at = now(), heartbeat_at = now()`,
      [node.nodeId, node.apiBase, node.maxRuns],
    )
    const unstarted = (
      await sql(
        `SELECT q.run_id, q.session_id FROM codexd_queue q JOIN codexd_runs r ON r.run_id = q.run_id
          WHERE q.claimed_by = $1 AND r.status = 'queued' FOR UPDATE OF q, r`,
        [node.nodeId],
      )
    ).rows
    for (const row of unstarted) {
      await sql("UPDATE codexd_queue SET claimed_by = NULL, claimed_at = NULL WHERE run_id = $1", [
        row.run_id,
      ])
      await sql("UPDATE codexd_sessions SET active_run = NULL WHERE session_id = $1 AND active_run = $2", [
        row.session_id,
        row.run_id,
      ])
    }
  })

/** Said when leaving: its sessions' runs wait for it (it is not lost), nobody reaps it. */
export const deregisterNode = (db: Database, nodeId: string) =>
  db.query("deregister the node from", "UPDATE codexd_nodes SET state = 'stopped' WHERE node_id = $1", [
    nodeId,
  ])

/** One heartbeat; false when the lease had already been taken (the node was declared lost). */
export const heartbeat = (db: Database, nodeId: string): Effect.Effect<boolean, StoreError> =>
  Effect.map(
    db.query(
      "heartbeat in",
      "UPDATE codexd_nodes SET heartbeat_at = now() WHERE node_id = $1 AND state = 'up' RETURNING node_id",
      [nodeId],
    ),
    (rows) => rows.length > 0,
  )

/** End what lost nodes held; the events of the runs it failed, to publish. */
export const reapLostNodes = (
  db: Database,
  leaseMs: number,
  now: string,
): Effect.Effect<
  { readonly lost: ReadonlyArray<string>; readonly events: ReadonlyArray<EventInput> },
  StoreError
> =>
  db.transaction("reap lost nodes in", async (sql) => {
    const events: Array<EventInput> = []
    const lost = (
      await sql(
        `SELECT node_id FROM codexd_nodes
          WHERE state = 'up' AND heartbeat_at < now() - make_interval(secs => $1::double precision / 1000)
          FOR UPDATE SKIP LOCKED`,
        [leaseMs],
      )
    ).rows.map((r) => r.node_id as string)
    if (lost.length > 0) await sql("UPDATE codexd_nodes SET state = 'lost' WHERE node_id = ANY($1)", [lost])
    // What lost nodes hold (newly lost or not: a run a node was starting as it was found lost is
    // ended once that start let go of it). The run is locked with its claim, so its status is current.
    const held = (
      await sql(
        `SELECT q.run_id, q.session_id, q.claimed_by, r.status, s.record AS session
           FROM codexd_queue q JOIN codexd_runs r ON r.run_id = q.run_id
           JOIN codexd_sessions s ON s.session_id = q.session_id
          WHERE q.claimed_by IN (SELECT node_id FROM codexd_nodes WHERE state = 'lost')
          ORDER BY q.seq FOR UPDATE OF q, r SKIP LOCKED`,
      )
    ).rows
    for (const row of held) {
      const session = row.session as SessionRecord
      if (row.status === "queued" && session.threadId === null) {
        await sql("UPDATE codexd_queue SET claimed_by = NULL, claimed_at = NULL WHERE run_id = $1", [
          row.run_id,
        ])
        await sql(
          "UPDATE codexd_sessions SET active_run = NULL, owner_node = NULL WHERE session_id = $1 AND active_run = $2",
          [row.session_id, row.run_id],
        )
      } else {
        const event = await failLost(sql, row.run_id, row.claimed_by, now)
        if (event !== null) events.push(event)
      }
    }
    // Runs waiting for a thread that lives on a lost node cannot run anywhere else.
    const stranded = (
      await sql(
        `SELECT q.run_id, s.owner_node FROM codexd_queue q
           JOIN codexd_sessions s ON s.session_id = q.session_id
           JOIN codexd_nodes n ON n.node_id = s.owner_node
          WHERE n.state = 'lost' AND q.claimed_by IS NULL ORDER BY q.seq FOR UPDATE OF q SKIP LOCKED`,
      )
    ).rows
    for (const row of stranded) {
      const event = await failLost(sql, row.run_id, row.owner_node, now)
      if (event !== null) events.push(event)
    }
    return { lost, events }
  })
