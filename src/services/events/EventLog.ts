/**
 * EventLog: every event of the daemon passes through here. Owns: seq assignment (monotonic across
 * restarts), the recent-events cache (in memory, persisted through the Store), the structured event
 * log (JSON lines, `eventLogFile.ts`), and fan-out to subscribers (replay from the cache, then live).
 * Does not own: what events mean, or how they reach HTTP clients.
 *
 * Seq continuity: seqs are handed out from a block reserved durably ahead of use (`reserveEventSeq`).
 * After any crash the next daemon starts above the reservation, so no seq is ever given twice, even
 * when the cache or the log had not caught up. Seqs are monotonic, not contiguous.
 */
import { readFileSync } from "node:fs"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Result from "effect/Result"
import * as Semaphore from "effect/Semaphore"
import { CodexdConfig } from "../../config.ts"
import { decodeJsonText } from "../../domain/decode.ts"
import { type EventInput, RecentEvent, type RecentEventCacheState } from "../../domain/event.ts"
import { redactSecrets, redactText } from "../logging/redact.ts"
import { Store } from "../store/Store.ts"
import { type EventLogFile, openEventLogFile } from "./eventLogFile.ts"
import { EventRing } from "./eventRing.ts"
import { EventSubscription, type SubscriptionItem } from "./eventSubscription.ts"

export type { SubscriptionItem }
export { EventSubscription }

export interface SubscribeOptions {
  /** Replay cached events with a seq above this one first; omit for live events only. */
  readonly since?: number
  readonly filter?: (event: RecentEvent) => boolean
  /** Live events a subscriber may fall behind by before it is dropped. */
  readonly bound?: number
  /**
   * Replay what the cache no longer holds from the event log file (for a filtered follower, such as
   * one run's: its end must not be lost to a cache that rolled over). Without it, a gap is `Reset`.
   */
  readonly replayFromLog?: boolean
}

export interface EventLogOptions {
  /** How many seqs each durable reservation covers. */
  readonly seqBlock?: number
  /** How long cache writes are batched; the cache is a convenience, the event log file is the record. */
  readonly cacheFlushMs?: number
  readonly defaultBound?: number
}

export class EventLog extends Context.Service<
  EventLog,
  {
    readonly publish: (input: EventInput) => Effect.Effect<RecentEvent>
    /** Publish several in order, as one step (a burst of deltas): one clock read, one seq check. */
    readonly publishAll: (inputs: ReadonlyArray<EventInput>) => Effect.Effect<void>
    readonly recent: Effect.Effect<RecentEventCacheState>
    readonly lastSeq: Effect.Effect<number>
    readonly subscribe: (options?: SubscribeOptions) => Effect.Effect<EventSubscription>
    /** Persist the cache and flush the log now (shutdown, tests). */
    readonly flush: Effect.Effect<void>
  }
>()("codexd/EventLog") {
  static readonly layer = (
    options: EventLogOptions = {},
  ): Layer.Layer<EventLog, never, Store | CodexdConfig> =>
    Layer.effect(
      EventLog,
      Effect.gen(function* () {
        const config = yield* CodexdConfig
        const store = yield* Store
        const log = openEventLogFile(config.paths.structuredEventLogPath, config.logRotation)
        const eventLog = yield* makeEventLog({
          store,
          log,
          logPath: config.paths.structuredEventLogPath,
          maxEntries: config.eventCacheSize,
          cache: yield* store.eventCache,
          options,
        })
        for (const report of store.corruptFiles) {
          yield* eventLog.publish({
            level: "error",
            type: "store.corrupt-file",
            message: `${report.path} could not be read and was ${report.movedTo === null ? "skipped" : `moved to ${report.movedTo}`}: ${report.reason}`,
            detail: { path: report.path, movedTo: report.movedTo, reason: report.reason },
          })
        }
        yield* Effect.addFinalizer(() => eventLog.flush)
        return eventLog
      }),
    )
}

interface MakeEventLogInput {
  readonly store: Store["Service"]
  readonly log: EventLogFile
  /** The file `log` writes: every event, one JSON line each. */
  readonly logPath: string
  readonly maxEntries: number
  readonly cache: RecentEventCacheState
  readonly options: EventLogOptions
}

const makeEventLog = ({ store, log, logPath, maxEntries, cache, options }: MakeEventLogInput) =>
  Effect.gen(function* () {
    const seqBlock = options.seqBlock ?? 4096
    // Each save writes the whole cache (a thousand events, hundreds of KB during a stream of deltas),
    // and only a restart reads it back: the event log file has every event as it happens.
    const cacheFlushMs = options.cacheFlushMs ?? 500
    const defaultBound = options.defaultBound ?? 10_000

    const ring = new EventRing(maxEntries, cache.events)
    const cachedMax = cache.events.reduce((max, e) => Math.max(max, e.seq), 0)
    let lastSeq = Math.max(cache.lastSeq, cachedMax, store.eventSeqReservedThrough)
    let reservedThrough = lastSeq
    const subscribers = new Set<EventSubscription>()
    /** One reservation at a time: a second caller finds the block already reserved. */
    const reservation = yield* Semaphore.make(1)
    /** A pending cache save; the saver fiber batches every publish within `cacheFlushMs`. */
    const cacheDirty = yield* Queue.dropping<void>(1)
    const background = yield* FiberSet.make()

    const snapshot = Effect.map(
      Clock.currentTimeMillis,
      (now): RecentEventCacheState => ({
        maxEntries,
        updatedAt: new Date(now).toISOString(),
        lastSeq,
        events: ring.toArray(),
      }),
    )

    const saveCache = Effect.flatMap(snapshot, store.saveEventCache).pipe(
      Effect.catch((error) => Effect.logError(`event cache not saved: ${error.message}`)),
    )

    yield* Effect.forkScoped(
      Effect.forever(
        Queue.take(cacheDirty).pipe(Effect.andThen(Effect.sleep(cacheFlushMs)), Effect.andThen(saveCache)),
      ),
    )

    const blockLow = () => reservedThrough - lastSeq < seqBlock / 2

    /** Make the next block durable unless another caller already did. */
    const reserveNextBlock = reservation.withPermits(1)(
      Effect.suspend(() => {
        if (!blockLow()) return Effect.void
        const through = reservedThrough + seqBlock
        return store.reserveEventSeq(through).pipe(
          Effect.tap(() =>
            Effect.sync(() => {
              reservedThrough = through
            }),
          ),
          Effect.catch((error) =>
            Effect.logError(`event seq not reserved: ${error.message}`).pipe(
              // A publisher waiting on the block tries again; not in a tight loop.
              Effect.andThen(Effect.sleep(100)),
            ),
          ),
        )
      }),
    )

    /** The events of one millisecond share their timestamp's text. */
    let stampedAt = Number.NaN
    let stamp = ""
    const timestampOf = (now: number): string => {
      if (now !== stampedAt) {
        stampedAt = now
        stamp = new Date(now).toISOString()
      }
      return stamp
    }

    const emit = (input: EventInput, now: number): RecentEvent => {
      lastSeq += 1
      const event: RecentEvent = {
        seq: lastSeq,
        createdAt: timestampOf(now),
        level: input.level ?? "info",
        type: input.type,
        message: redactText(input.message),
        detail: input.detail == null ? null : (redactSecrets(input.detail) as Record<string, unknown>),
      }
      ring.push(event)
      log.append(event)
      for (const subscriber of subscribers) subscriber.offer(event)
      Queue.offerUnsafe(cacheDirty, undefined)
      return event
    }

    /** Reserve the next block in the background while half of this one is left. */
    let reservingAhead = false
    const reserveAhead = Effect.suspend(() => {
      if (!blockLow() || reservingAhead) return Effect.void
      reservingAhead = true
      return Effect.asVoid(
        FiberSet.run(
          background,
          Effect.ensuring(
            reserveNextBlock,
            Effect.sync(() => {
              reservingAhead = false
            }),
          ),
        ),
      )
    })

    const publish = (input: EventInput): Effect.Effect<RecentEvent> =>
      Effect.suspend(() =>
        // The common case is one step: a seq is at hand. Only a used-up block waits for the disk.
        lastSeq < reservedThrough
          ? Effect.flatMap(Clock.currentTimeMillis, (now) => {
              const event = emit(input, now)
              return blockLow() ? Effect.as(reserveAhead, event) : Effect.succeed(event)
            })
          : Effect.gen(function* () {
              while (lastSeq >= reservedThrough) yield* reserveNextBlock
              const event = emit(input, yield* Clock.currentTimeMillis)
              yield* reserveAhead
              return event
            }),
      )

    /**
     * A burst larger than what is left of the block is emitted a block at a time, never event by
     * event: a backlog grows its batches, and a step per event would let it grow further.
     */
    const publishAll = (inputs: ReadonlyArray<EventInput>): Effect.Effect<void> =>
      Effect.suspend(() =>
        reservedThrough - lastSeq >= inputs.length
          ? Effect.flatMap(Clock.currentTimeMillis, (now) => {
              for (const input of inputs) emit(input, now)
              return blockLow() ? reserveAhead : Effect.void
            })
          : Effect.gen(function* () {
              let next = 0
              while (next < inputs.length) {
                while (lastSeq >= reservedThrough) yield* reserveNextBlock
                const now = yield* Clock.currentTimeMillis
                const until = Math.min(inputs.length, next + (reservedThrough - lastSeq))
                for (; next < until; next++) emit(inputs[next] as EventInput, now)
              }
              yield* reserveAhead
            }),
      )

    /**
     * The events with `since < seq < before` as the event log file holds them, or null when it cannot
     * be read. The file is the record of every event; what is older than the cache was flushed long ago.
     */
    const loggedBetween = (since: number, before: number): Array<RecentEvent> | null => {
      // The newest rotated file first: a follower's gap may begin before the last rotation.
      let text = ""
      try {
        text = readFileSync(`${logPath}.1`, "utf8")
      } catch {}
      try {
        text += readFileSync(logPath, "utf8")
      } catch {
        return null
      }
      const found: Array<RecentEvent> = []
      for (const line of text.split("\n")) {
        if (line === "") continue
        const seq = /"seq":(\d+)/.exec(line)?.[1]
        if (seq === undefined || Number(seq) <= since || Number(seq) >= before) continue
        const decoded = decodeJsonText(RecentEvent, logPath)(line)
        if (Result.isSuccess(decoded)) found.push(decoded.success)
      }
      return found.sort((a, b) => a.seq - b.seq)
    }

    const subscribe = (subscribeOptions: SubscribeOptions = {}): Effect.Effect<EventSubscription> =>
      Effect.sync(() => {
        const subscription = new EventSubscription({
          bound: subscribeOptions.bound ?? defaultBound,
          accepts: subscribeOptions.filter ?? (() => true),
          onClose: (s) => subscribers.delete(s),
        })
        const since = subscribeOptions.since
        if (since !== undefined) {
          const oldest = ring.oldest
          // A gap exists when the first event after `since` is no longer cached.
          if (oldest !== undefined && oldest.seq > since + 1) {
            const logged = subscribeOptions.replayFromLog === true ? loggedBetween(since, oldest.seq) : null
            if (logged === null)
              subscription.enqueueReplay({ _tag: "Reset", requestedSince: since, oldestSeq: oldest.seq })
            else for (const event of logged) subscription.enqueueReplay({ _tag: "Event", event })
          }
          for (const event of ring.toArray(since)) subscription.enqueueReplay({ _tag: "Event", event })
        }
        subscribers.add(subscription)
        return subscription
      })

    const flush = Effect.gen(function* () {
      yield* saveCache
      yield* Effect.callback<void>((resume) => {
        log.flush(() => resume(Effect.void))
      })
    })

    return {
      publish,
      publishAll,
      recent: snapshot,
      lastSeq: Effect.sync(() => lastSeq),
      subscribe,
      flush,
    } satisfies EventLog["Service"]
  })
