/**
 * RunQueue: which queued run starts next. Runs wait per session in the order they came, one turn per
 * session at a time, at most `limit` sessions active, the session served longest ago first (see
 * `FairQueue`). A claimed run holds its session's slot until it is released.
 *
 * `RunQueue.localLayer` keeps the queue in this daemon's memory: queued runs are in the run registry,
 * and recovery after a restart puts them back. A shared queue (several daemons) is another
 * implementation provided in the composition root.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Stream from "effect/Stream"
import type { RunId, SessionId } from "../../domain/ids.ts"
import { FairQueue } from "./fairQueue.ts"

export interface QueuedRun {
  readonly runId: RunId
  readonly sessionId: SessionId
}

/** What a queue shared by several nodes adds: runs are claimed by whichever node may run them. */
export interface SharedQueue {
  /** The runs this node has claimed and not released (the only ones it may recover or sweep). */
  readonly claimedHere: Effect.Effect<ReadonlySet<RunId>>
  /** Another node changed the queue (or a poll came due): what is claimable may have changed. */
  readonly wakeups: Stream.Stream<void>
}

export class RunQueue extends Context.Service<
  RunQueue,
  {
    /** Last of its session's runs, or `first` of them (a run handed back after a restart). */
    readonly enqueue: (run: QueuedRun, first?: boolean) => Effect.Effect<void>
    /** The runs to start now, so that at most `limit` sessions have a turn at once. */
    readonly claim: (limit: number) => Effect.Effect<ReadonlyArray<QueuedRun>>
    /** The run's turn ended: its session may be served again. */
    readonly release: (run: QueuedRun) => Effect.Effect<void>
    /** Take a run out before it started (interrupted while queued); false when it was not queued. */
    readonly remove: (runId: RunId) => Effect.Effect<boolean>
    /**
     * Null for this daemon's own queue. Shared: a run is queued by its record's insert (on any node)
     * and becomes live on the node that claims it.
     */
    readonly shared: SharedQueue | null
  }
>()("codexd/RunQueue") {
  static readonly localLayer: Layer.Layer<RunQueue> = Layer.sync(RunQueue, () => {
    const queue = new FairQueue<SessionId, RunId>()
    return RunQueue.of({
      enqueue: (run, first) => Effect.sync(() => queue.enqueue(run.sessionId, run.runId, first)),
      claim: (limit) =>
        Effect.sync(() => queue.take(limit).map(({ session, run }) => ({ runId: run, sessionId: session }))),
      release: (run) => Effect.sync(() => queue.release(run.sessionId)),
      remove: (runId) => Effect.sync(() => queue.remove(runId)),
      shared: null,
    })
  })
}
