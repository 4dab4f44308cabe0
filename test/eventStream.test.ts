/**
 * The SSE event stream over real HTTP on loopback, served from a real EventLog with a small cache,
 * short heartbeats and a small per-client bound: replay and resume, reset, heartbeats, and a client
 * that stops reading being dropped while another receives everything.
 */
import { createServer, get, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { foundationLayer } from "../src/daemon.ts"
import { serveEventStream } from "../src/services/api/eventStream.ts"
import { sendError } from "../src/services/api/httpSupport.ts"
import { EventLog } from "../src/services/events/EventLog.ts"
import { configFor, makeTempDir } from "./support/tempConfig.ts"

const temps: Array<{ cleanup: () => void }> = []
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup()
})

interface Stream {
  readonly base: string
  readonly log: EventLog["Service"]
  readonly publish: (n: number, detail?: Record<string, unknown>) => Promise<void>
}

/** A loopback server whose only route is the event stream, over an EventLog caching 20 events. */
const withStream = (body: (stream: Stream) => Promise<void>) => {
  const dir = makeTempDir("codexd-sse-")
  temps.push(dir)
  const config = configFor(dir.path, { eventCacheSize: "20" })
  return Effect.runPromise(
    Effect.gen(function* () {
      const log = yield* EventLog
      const server = createServer((req, res) => {
        Effect.runFork(
          serveEventStream(req, res, new URL(req.url ?? "/", "http://127.0.0.1"), log, {
            heartbeatMs: 40,
            bound: 64,
          }).pipe(Effect.catch((error) => Effect.sync(() => sendError(res, error)))),
        )
      })
      yield* Effect.promise(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)))
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const publish = (n: number, detail: Record<string, unknown> = {}) =>
        Effect.runPromise(
          Effect.forEach(
            Array.from({ length: n }, (_, i) => i),
            (i) => log.publish({ type: "test.event", message: `event ${i}`, detail: { i, ...detail } }),
          ),
        ).then(() => undefined)
      yield* Effect.promise(() =>
        body({ base, log, publish }).finally(() => {
          server.closeAllConnections()
          server.close()
        }),
      )
    }).pipe(Effect.provide(foundationLayer(config, { eventLog: { seqBlock: 16 } }))),
  )
}

/** Opens the stream and collects its raw text; `read: false` leaves the response unread (paused). */
const open = (url: string, headers: Record<string, string> = {}) =>
  new Promise<{ res: IncomingMessage; text: () => string }>((resolve, reject) => {
    get(url, { headers }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        text += chunk
      })
      resolve({ res, text: () => text })
    }).on("error", reject)
  })

const until = async (condition: () => boolean, what: string, timeoutMs = 10_000) => {
  for (const end = Date.now() + timeoutMs; !condition(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const framesOf = (text: string) =>
  text
    .split("\n\n")
    .filter((raw) => /^event: /m.test(raw))
    .map((raw) => ({
      id: /^id: (\d+)$/m.exec(raw)?.[1],
      event: /^event: (.*)$/m.exec(raw)?.[1],
      data: JSON.parse(/^data: (.*)$/m.exec(raw)?.[1] ?? "null"),
    }))

describe("the SSE event stream", () => {
  it("replays from ?since= and Last-Event-ID, with id = seq, then goes live", async () => {
    await withStream(async ({ base, publish }) => {
      await publish(10)
      const since = await open(`${base}/?since=7`)
      await until(() => framesOf(since.text()).length === 3, "the replay")
      expect(framesOf(since.text()).map((f) => f.id)).toEqual(["8", "9", "10"])
      const resumed = await open(`${base}/`, { "last-event-id": "9" })
      await publish(2)
      await until(() => framesOf(resumed.text()).length === 3, "replay and live events")
      expect(framesOf(resumed.text()).map((f) => [f.id, f.event])).toEqual([
        ["10", "test.event"],
        ["11", "test.event"],
        ["12", "test.event"],
      ])
      expect(framesOf(resumed.text())[2]?.data).toMatchObject({ seq: 12, detail: { i: 1 } })
      since.res.destroy()
      resumed.res.destroy()
    })
  })

  it("says reset when the asked seq is older than the cache, then replays what it has", async () => {
    await withStream(async ({ base, publish }) => {
      await publish(50)
      const client = await open(`${base}/?since=3`)
      await until(() => framesOf(client.text()).length === 21, "reset and the cached events")
      const [reset, ...events] = framesOf(client.text())
      expect(reset).toMatchObject({
        event: "reset",
        id: undefined,
        data: { requestedSince: 3, oldestSeq: 31 },
      })
      expect(events.map((e) => Number(e.id))).toEqual(Array.from({ length: 20 }, (_, i) => 31 + i))
      client.res.destroy()
    })
  })

  it("replays a filtered stream past the cache from the event log, so a run's end is never lost", async () => {
    await withStream(async ({ base, log, publish }) => {
      await Effect.runPromise(
        Effect.forEach(["run.queued", "run.running", "run.completed"], (type) =>
          log.publish({ type, message: type, detail: { runId: "run_a" } }),
        ),
      )
      // Far more events than the cache holds (20) come after the run ended.
      await publish(50, { runId: "run_b" })
      await Effect.runPromise(log.flush)
      const follower = await open(`${base}/?since=0&runId=run_a`)
      await until(() => framesOf(follower.text()).length === 3, "the run's events")
      expect(framesOf(follower.text()).map((f) => [f.id, f.event])).toEqual([
        ["1", "run.queued"],
        ["2", "run.running"],
        ["3", "run.completed"],
      ])
      // Unfiltered, the gap is still a reset: the whole log is not replayed to everyone.
      const everyone = await open(`${base}/?since=0`)
      await until(() => framesOf(everyone.text()).length === 21, "reset and the cache")
      expect(framesOf(everyone.text())[0]?.event).toBe("reset")
      follower.res.destroy()
      everyone.res.destroy()
    })
  })

  it("keeps an idle connection open with heartbeat comments", async () => {
    await withStream(async ({ base }) => {
      const client = await open(`${base}/`)
      await until(() => (client.text().match(/^: heartbeat$/gm) ?? []).length >= 3, "three heartbeats")
      expect(framesOf(client.text())).toEqual([])
      expect(client.res.destroyed).toBe(false)
      client.res.destroy()
    })
  })

  it("drops a client that stops reading, without holding back one that reads", async () => {
    const warnings: Array<string> = []
    const onWarning = (warning: Error) => warnings.push(warning.name)
    process.on("warning", onWarning)
    await withStream(async ({ base, publish }) => {
      const slow = await open(`${base}/`)
      slow.res.pause()
      const fast = await open(`${base}/`)
      // 2,000 events of 4 KB: far more than the sockets buffer, so the paused client falls behind.
      const total = 2_000
      await publish(total, { padding: "x".repeat(4_096) })
      await until(() => framesOf(fast.text()).length === total, "every event at the reading client", 30_000)
      expect(framesOf(fast.text()).some((f) => f.event === "dropped")).toBe(false)
      // The paused client, reading again, finds it was dropped and its stream ended.
      slow.res.resume()
      await until(() => slow.res.complete, "the end of the dropped stream")
      const frames = framesOf(slow.text())
      expect(frames.at(-1)).toMatchObject({
        event: "dropped",
        data: { reason: "subscriber fell 64 events behind" },
      })
      expect(frames.length).toBeLessThan(total)
      fast.res.destroy()
    }).finally(() => process.off("warning", onWarning))
    // Waiting for a full socket to drain, again and again, leaves no listener behind.
    expect(warnings).not.toContain("MaxListenersExceededWarning")
  })
})
