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
import { type ClusterCounts, countCluster, listNodes, type NodeView } from "./clusterViews.ts"
import { deregisterNode, heartbeat, reapLostNodes, registerNode } from "./nodeLeases.ts"
import { openDatabase } from "./pgDatabase.ts"
import { makePgRunQueue } from "./pgRunQueue.ts"
import { makePgRunStore } from "./pgRunStore.ts"
import { migrate } from "./pgSchema.ts"

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
          nodes: listNodes(db),
          counts: countCluster(db, nodeId),
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
