/**
 * What a cluster looks like from its database: the nodes with their state, claims, capacity and last
 * heartbeat, and the counts of runs by status. Read by any node, and by the CLI (`codexd nodes`,
 * `codexd status`) straight from the database.
 */
import * as Effect from "effect/Effect"
import type { StoreError } from "../store/Store.ts"
import { type Database, openDatabase } from "./pgDatabase.ts"

export interface NodeView {
  readonly nodeId: string
  readonly state: "up" | "lost" | "stopped"
  readonly apiBase: string | null
  readonly maxRuns: number
  /** Runs it has claimed and not released. */
  readonly claims: number
  readonly startedAt: string
  readonly heartbeatAt: string
  /** How long ago its last heartbeat was, by the database's clock. */
  readonly heartbeatAgeMs: number
}

export interface ClusterCounts {
  readonly database: string
  readonly nodeId: string
  readonly nodes: { readonly up: number; readonly lost: number; readonly stopped: number }
  readonly runs: {
    readonly queued: number
    readonly running: number
    readonly completed: number
    readonly failed: number
  }
  /** Queued runs no node has claimed yet. */
  readonly waiting: number
}

export const listNodes = (db: Database): Effect.Effect<ReadonlyArray<NodeView>, StoreError> =>
  Effect.map(
    db.query(
      "list nodes in",
      `SELECT n.node_id, n.state, n.api_base, n.max_runs, n.started_at, n.heartbeat_at,
              (SELECT count(*) FROM codexd_queue q WHERE q.claimed_by = n.node_id) AS claims,
              (extract(epoch FROM now() - n.heartbeat_at) * 1000)::bigint AS age_ms
         FROM codexd_nodes n ORDER BY n.node_id`,
    ),
    (rows) =>
      rows.map((r) => ({
        nodeId: String(r.node_id),
        state: r.state as NodeView["state"],
        apiBase: (r.api_base as string | null) ?? null,
        maxRuns: Number(r.max_runs),
        claims: Number(r.claims),
        startedAt: (r.started_at as Date).toISOString(),
        heartbeatAt: (r.heartbeat_at as Date).toISOString(),
        heartbeatAgeMs: Number(r.age_ms),
      })),
  )

export const countCluster = (db: Database, nodeId: string): Effect.Effect<ClusterCounts, StoreError> =>
  Effect.gen(function* () {
    const nodes = yield* db.query(
      "count nodes in",
      "SELECT state, count(*) AS n FROM codexd_nodes GROUP BY state",
    )
    const runs = yield* db.query(
      "count runs in",
      "SELECT status, count(*) AS n FROM codexd_runs GROUP BY status",
    )
    const waiting = yield* db.query(
      "count waiting runs in",
      "SELECT count(*) AS n FROM codexd_queue WHERE claimed_by IS NULL",
    )
    const of = (rows: ReadonlyArray<Record<string, unknown>>, key: string, value: string) =>
      Number(rows.find((r) => r[key] === value)?.n ?? 0)
    return {
      database: db.where,
      nodeId,
      nodes: {
        up: of(nodes, "state", "up"),
        lost: of(nodes, "state", "lost"),
        stopped: of(nodes, "state", "stopped"),
      },
      runs: {
        queued: of(runs, "status", "queued"),
        running: of(runs, "status", "running"),
        completed: of(runs, "status", "completed"),
        failed: of(runs, "status", "failed"),
      },
      waiting: Number(waiting[0]?.n ?? 0),
    }
  })

/** Open the database, read, close: for the CLI, which does not join the cluster. */
export const readCluster = <A>(url: string, read: (db: Database) => Effect.Effect<A, StoreError>) =>
  Effect.scoped(Effect.flatMap(openDatabase(url, 1), read))
