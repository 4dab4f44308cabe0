/**
 * The live event stream as Server-Sent Events: `id:` is the event's seq, `event:` its type, `data:`
 * the recent-event JSON. `Last-Event-ID` or `?since=` replays from the recent-events cache first; when
 * the asked seq is older than the cache, a `reset` event says so. Comments keep idle connections open.
 * A client that cannot keep up is sent `dropped` and closed; the others never wait for it.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import * as Effect from "effect/Effect"
import type { RecentEvent } from "../../domain/event.ts"
import type { EventLog, EventSubscription } from "../events/EventLog.ts"
import { serialized } from "../events/eventJson.ts"
import { ApiError } from "./httpSupport.ts"

export const HEARTBEAT_MS = 15_000
const BATCH_WINDOW_MS = 1

const parseSeq = (
  raw: string | null | undefined,
  name: string,
): Effect.Effect<number | undefined, ApiError> => {
  if (raw === null || raw === undefined || raw === "") return Effect.succeed(undefined)
  if (!/^\d+$/.test(raw))
    return Effect.fail(
      new ApiError({ status: 400, code: "bad-since", message: `${name} must be a non-negative integer` }),
    )
  return Effect.succeed(Number(raw))
}

const frame = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`

/** An event's frame; its JSON is serialised once for every client and the log file. */
const eventFrame = (event: RecentEvent): string =>
  `id: ${event.seq}\nevent: ${event.type}\ndata: ${serialized(event)}\n\n`

/** Resolves on `drain` or `close`, whichever comes first, and leaves no listener behind. */
const drainedOrClosed = (res: ServerResponse) =>
  new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done)
      res.off("close", done)
      resolve()
    }
    res.on("drain", done)
    res.on("close", done)
  })

/** Write a subscription's items to the response until either end closes. */
const pipeToResponse = async (
  req: IncomingMessage,
  res: ServerResponse,
  subscription: EventSubscription,
  heartbeatMs: number,
): Promise<void> => {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  })
  res.write(": codexd event stream\n\n")
  const heartbeat = setInterval(() => res.write(": heartbeat\n\n"), heartbeatMs)
  const stop = () => subscription.close()
  req.on("close", stop)
  try {
    let lastWriteAt = Number.NEGATIVE_INFINITY
    for (;;) {
      const first = await subscription.next()
      if (first === null) break
      // Events arrive from the daemon's fibers a few at a time. The first after a quiet moment goes
      // out at once; while they stream, a millisecond lets the rest of a burst land, so a stream of
      // deltas costs one write per millisecond, not one syscall per event (measured: a turn of the
      // event loop alone leaves most bursts split).
      if (performance.now() - lastWriteAt < BATCH_WINDOW_MS)
        await new Promise<void>((resolve) => setTimeout(resolve, BATCH_WINDOW_MS))
      // Whatever else is already waiting goes out in the same write: one syscall, not one per event.
      // Joined once, flat: a string grown by `+=` is a rope that the socket write copies again.
      const frames: Array<string> = []
      let dropped = false
      for (const item of [first, ...subscription.takeBuffered()]) {
        if (item._tag === "Event") frames.push(eventFrame(item.event))
        else if (item._tag === "Reset")
          frames.push(frame("reset", { requestedSince: item.requestedSince, oldestSeq: item.oldestSeq }))
        else {
          frames.push(frame("dropped", { reason: item.reason }))
          dropped = true
          break
        }
      }
      const text = frames.join("")
      // Waiting for the socket to drain is what lets a slow client fall behind and be dropped.
      lastWriteAt = performance.now()
      if (!res.write(text) && !dropped) await drainedOrClosed(res)
      if (dropped || res.destroyed) break
    }
  } finally {
    clearInterval(heartbeat)
    req.off("close", stop)
    subscription.close()
    res.end()
  }
}

export const serveEventStream = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  events: EventLog["Service"],
  options: { readonly heartbeatMs?: number; readonly bound?: number } = {},
): Effect.Effect<void, ApiError> =>
  Effect.gen(function* () {
    const since =
      (yield* parseSeq(req.headers["last-event-id"] as string | undefined, "Last-Event-ID")) ??
      (yield* parseSeq(url.searchParams.get("since"), "since"))
    const runId = url.searchParams.get("runId")
    const sessionId = url.searchParams.get("sessionId")
    const filter = (event: RecentEvent) =>
      (runId === null || event.detail?.runId === runId) &&
      (sessionId === null || event.detail?.sessionId === sessionId)
    const subscription = yield* events.subscribe({
      ...(since === undefined ? {} : { since }),
      filter,
      // A follower of one run or session gets all of it, from the event log past the cache.
      replayFromLog: runId !== null || sessionId !== null,
      ...(options.bound === undefined ? {} : { bound: options.bound }),
    })
    yield* Effect.promise(() =>
      pipeToResponse(req, res, subscription, options.heartbeatMs ?? HEARTBEAT_MS),
    ).pipe(Effect.ensuring(Effect.sync(() => subscription.close())))
  })
