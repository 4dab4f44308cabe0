/**
 * Cluster: this node's membership of a cluster sharing one PostgreSQL (`CODEXD_QUEUE_URL`). The
 * layer opens the database, migrates its schema, registers the node, and keeps its lease with a
 * heartbeat fiber that also ends what lost nodes held; it provides the RunStore and RunQueue every
 * node shares. A node still supervises its own codex child and keeps its own event log.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { CodexdConfig } from "../../config.ts"
import { EventLog } from "../events/EventLog.ts"
import { nowIso } from "../now.ts"
import { RunQueue } from "../runs/RunQueue.ts"
import { RunStore } from "../store/RunStore.ts"
import type { Store, StoreError } from "../store/Store.ts"
import { deregisterNode, heartbeat, reapLostNodes, registerNode } from "./nodeLeases.ts"
import { openDatabase } from "./pgDatabase.ts"
import { makePgRunQueue } from "./pgRunQueue.ts"
import { makePgRunStore } from "./pgRunStore.ts"
import { migrate } from "./pgSchema.ts"

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

export interface ClusterNode {
  readonly nodeId: string
  readonly nodes: Effect.Effect<ReadonlyArray<NodeView>, StoreError>
  readonly counts: Effect.Effect<ClusterCounts, StoreError>
  /** The node's API address, for `nodes` (known once the API listens). */
  readonly announceApi: (apiBase: string) => Effect.Effect<void>
}

/** This daemon as a node of a cluster; `current` is null for a daemon on its own (the default). */
export class Cluster extends Context.Service<Cluster, { readonly current: ClusterNode | null }>()(
  "codexd/Cluster",
) {
  /** A daemon on its own: its runs and sessions in its state directory, its queue in memory. */
  static readonly alone: Layer.Layer<Cluster | RunStore | RunQueue, never, Store> = Layer.mergeAll(
    Layer.succeed(Cluster, { current: null }),
    RunStore.fileLayer,
    RunQueue.localLayer,
  )

  /** How often a node looks for claimable runs when no notification came. */
  static readonly pollMs = 1_000

  static readonly layer = (
    url: string,
    leaseMs: number,
  ): Layer.Layer<Cluster | RunStore | RunQueue, StoreError, CodexdConfig | EventLog> =>
    Layer.effectContext(
      Effect.gen(function* () {
        const config = yield* CodexdConfig
        const events = yield* EventLog
        const nodeId = config.nodeId
        const db = yield* openDatabase(url)
        // The lease has a connection of its own: a heartbeat never waits behind the node's work.
        const leaseDb = yield* openDatabase(url, 1)
        yield* migrate(db)
        const facts = { nodeId, apiBase: null as string | null, maxRuns: config.runs.maxConcurrentRuns }
        yield* registerNode(leaseDb, facts)
        yield* Effect.addFinalizer(() => Effect.ignore(deregisterNode(leaseDb, nodeId)))

        const tick = Effect.gen(function* () {
          if (!(yield* heartbeat(leaseDb, nodeId))) {
            yield* Effect.logWarning(`node ${nodeId} had lost its lease; registering again`)
            yield* registerNode(leaseDb, facts)
          }
          const reaped = yield* reapLostNodes(leaseDb, leaseMs, yield* nowIso)
          for (const lost of reaped.lost)
            yield* events.publish({
              level: "warn",
              type: "cluster.node.lost",
              message: `node ${lost} lost its lease (no heartbeat for ${leaseMs} ms)`,
              detail: { nodeId: lost, reapedBy: nodeId },
            })
          for (const event of reaped.events) yield* events.publish(event)
        }).pipe(Effect.catch((error) => Effect.logError(`heartbeat failed: ${error.message}`)))
        yield* Effect.forkScoped(Effect.repeat(tick, Schedule.spaced(Math.max(50, Math.floor(leaseMs / 3)))))

        const queue = yield* makePgRunQueue(db, nodeId, { pollMs: Cluster.pollMs })
        const cluster: ClusterNode = {
          nodeId,
          nodes: Effect.map(
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
          ),
          counts: Effect.gen(function* () {
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
          }),
          announceApi: (apiBase) =>
            Effect.sync(() => {
              facts.apiBase = apiBase
            }).pipe(
              Effect.andThen(
                db.query("announce the node in", "UPDATE codexd_nodes SET api_base = $2 WHERE node_id = $1", [
                  nodeId,
                  apiBase,
                ]),
              ),
              Effect.ignore,
            ),
        }
        return Context.make(Cluster, { current: cluster })
          .pipe(Context.add(RunStore, makePgRunStore(db, nodeId)))
          .pipe(Context.add(RunQueue, queue))
      }),
    )
}
