import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Result } from "effect"
import { execa } from "execa"
import { afterEach, describe, expect, it } from "vitest"
import { foundationLayer } from "../src/daemon.ts"
import type { ResolvedConfig } from "../src/domain/config.ts"
import { decodeJsonText } from "../src/domain/decode.ts"
import { RecentEventCacheState } from "../src/domain/event.ts"
import { EventLog, type EventSubscription, type SubscriptionItem } from "../src/services/events/EventLog.ts"
import { configFor, makeTempDir } from "./support/tempConfig.ts"

const temps: Array<{ cleanup: () => void }> = []
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup()
})
const freshConfig = (flags: Parameters<typeof configFor>[1] = {}): ResolvedConfig => {
  const dir = makeTempDir("codexd-events-")
  temps.push(dir)
  return configFor(dir.path, flags)
}

const withEventLog = <A, E>(
  config: ResolvedConfig,
  body: (log: EventLog["Service"]) => Effect.Effect<A, E>,
) =>
  Effect.runPromise(
    Effect.gen(function* () {
      return yield* body(yield* EventLog)
    }).pipe(Effect.provide(foundationLayer(config, { eventLog: { seqBlock: 16 } }))),
  )

const publishN = (log: EventLog["Service"], n: number, type = "test.event") =>
  Effect.forEach(
    Array.from({ length: n }, (_, i) => i),
    (i) => log.publish({ type, message: `event ${i}`, detail: { i } }),
  )

const take = async (subscription: EventSubscription, n: number): Promise<Array<SubscriptionItem>> => {
  const items: Array<SubscriptionItem> = []
  while (items.length < n) {
    const item = await subscription.next()
    if (item === null) break
    items.push(item)
  }
  return items
}
const seqs = (items: ReadonlyArray<SubscriptionItem>) =>
  items.map((i) => (i._tag === "Event" ? i.event.seq : i._tag))

describe("EventLog", () => {
  it("numbers events monotonically and keeps counting after a restart", async () => {
    const config = freshConfig()
    const first = await withEventLog(config, (log) => publishN(log, 5))
    expect(first.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5].map((n) => n + (first[0]?.seq ?? 0) - 1))
    const second = await withEventLog(config, (log) => publishN(log, 3))
    expect(second[0]?.seq).toBeGreaterThan(first.at(-1)?.seq ?? Number.POSITIVE_INFINITY)
    expect(second.map((e) => e.seq)).toEqual([...second.map((e) => e.seq)].sort((a, b) => a - b))
  })

  it("replays from a seq, then goes live", async () => {
    const config = freshConfig()
    await withEventLog(config, (log) =>
      Effect.gen(function* () {
        const published = yield* publishN(log, 10)
        const since = published[4]?.seq ?? 0
        const subscription = yield* log.subscribe({ since })
        const live = yield* log.publish({ type: "test.live", message: "live" })
        const items = yield* Effect.promise(() => take(subscription, 6))
        expect(seqs(items)).toEqual([...published.slice(5).map((e) => e.seq), live.seq])
        subscription.close()
      }),
    )
  })

  it("says reset when the asked seq is older than the cache", async () => {
    const config = freshConfig({ eventCacheSize: "5" })
    await withEventLog(config, (log) =>
      Effect.gen(function* () {
        const published = yield* publishN(log, 10)
        const subscription = yield* log.subscribe({ since: published[1]?.seq ?? 0 })
        const items = yield* Effect.promise(() => take(subscription, 6))
        expect(items[0]).toEqual({
          _tag: "Reset",
          requestedSince: published[1]?.seq,
          oldestSeq: published[5]?.seq,
        })
        expect(seqs(items.slice(1))).toEqual(published.slice(5).map((e) => e.seq))
        subscription.close()
      }),
    )
  })

  it("drops a slow subscriber with a final dropped item, without slowing a fast one", async () => {
    const config = freshConfig()
    await withEventLog(config, (log) =>
      Effect.gen(function* () {
        const slow = yield* log.subscribe({ bound: 10 })
        const fast = yield* log.subscribe({ bound: 10 })
        const fastItems: Array<SubscriptionItem> = []
        const reading = (async () => {
          for await (const item of fast) {
            fastItems.push(item)
            if (fastItems.length === 50) return
          }
        })()
        for (let i = 0; i < 50; i++) {
          yield* log.publish({ type: "test.burst", message: `${i}` })
          // Give the fast reader a turn, as a live connection would get.
          yield* Effect.promise(() => new Promise((r) => setImmediate(r)))
        }
        yield* Effect.promise(() => reading)
        expect(fastItems.every((i) => i._tag === "Event")).toBe(true)
        const slowItems = yield* Effect.promise(() => take(slow, 100))
        expect(slowItems).toHaveLength(11)
        expect(slowItems.at(-1)?._tag).toBe("Dropped")
        expect(slow.isClosed).toBe(true)
        expect(yield* Effect.promise(() => slow.next())).toBeNull()
      }),
    )
  })

  it("filters a subscription", async () => {
    const config = freshConfig()
    await withEventLog(config, (log) =>
      Effect.gen(function* () {
        const subscription = yield* log.subscribe({ filter: (e) => e.type === "keep" })
        yield* log.publish({ type: "skip", message: "no" })
        const kept = yield* log.publish({ type: "keep", message: "yes" })
        const items = yield* Effect.promise(() => take(subscription, 1))
        expect(seqs(items)).toEqual([kept.seq])
        subscription.close()
      }),
    )
  })

  it("persists the recent-events cache and writes every event to the structured log, secrets redacted", async () => {
    const config = freshConfig({ eventCacheSize: "3" })
    const published = await withEventLog(config, (log) =>
      Effect.gen(function* () {
        const events = yield* publishN(log, 4)
        const secret = yield* log.publish({
          level: "warn",
          type: "test.secret",
          message: "header Authorization: Bearer abc.def.ghi",
          detail: { apiKey: "sk-proj-0123456789abcdefABCDEF", nested: { token: "t0k3n" }, count: 3 },
        })
        return [...events, secret]
      }),
    )
    const cache = Result.getOrThrow(
      decodeJsonText(
        RecentEventCacheState,
        "events.json",
      )(readFileSync(config.paths.recentEventsPath, "utf8")),
    )
    expect(cache.events.map((e) => e.seq)).toEqual(published.slice(-3).map((e) => e.seq))
    expect(cache.lastSeq).toBe(published.at(-1)?.seq)
    const logLines = readFileSync(config.paths.structuredEventLogPath, "utf8").trim().split("\n")
    expect(logLines.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual(published.map((e) => e.seq))
    const text = logLines.join("\n") + JSON.stringify(cache)
    expect(text).not.toContain("abc.def.ghi")
    expect(text).not.toContain("sk-proj-0123456789abcdefABCDEF")
    expect(text).not.toContain("t0k3n")
    expect(cache.events.at(-1)?.detail).toEqual({
      apiKey: "[redacted]",
      nested: { token: "[redacted]" },
      count: 3,
    })
  })

  it("publishes a burst in order as one step, across seq reservations, every line in the log", async () => {
    const config = freshConfig({ eventCacheSize: "100" })
    const burst = Array.from({ length: 10_000 }, (_, i) => ({ type: "test.delta", message: `d${i}` }))
    const { before, after, recent } = await withEventLog(config, (log) =>
      Effect.gen(function* () {
        const before = yield* log.lastSeq
        yield* log.publishAll(burst.slice(0, 10))
        yield* log.publishAll(burst.slice(10))
        return { before, after: yield* log.lastSeq, recent: yield* log.recent }
      }),
    )
    expect(after - before).toBe(burst.length)
    expect(recent.events.map((e) => e.message)).toEqual(burst.slice(-100).map((e) => e.message))
    const logged = readFileSync(config.paths.structuredEventLogPath, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { seq: number; message: string })
      .filter((e) => e.message.startsWith("d"))
    expect(logged.map((e) => e.message)).toEqual(burst.map((e) => e.message))
    expect(logged.map((e) => e.seq)).toEqual(burst.map((_, i) => before + 1 + i))
  })

  it("reports a corrupt state file as an error event", async () => {
    const config = freshConfig()
    await withEventLog(config, () => Effect.void)
    writeFileSync(config.paths.daemonStatePath, "garbage")
    const recent = await withEventLog(config, (log) => log.recent)
    const report = recent.events.find((e) => e.type === "store.corrupt-file")
    expect(report?.level).toBe("error")
    expect(report?.detail).toMatchObject({ path: config.paths.daemonStatePath })
    expect(String(report?.detail?.movedTo)).toContain(".corrupt-")
  })

  it("never repeats a seq when the daemon is killed with SIGKILL", async () => {
    const dir = makeTempDir("codexd-events-kill-")
    temps.push(dir)
    const writer = join(import.meta.dirname, "fixtures", "storeWriter.ts")
    for (let round = 0; round < 8; round++) {
      const child = execa(process.execPath, [writer, dir.path], { reject: false, buffer: false })
      let acks = 0
      for await (const line of child.iterable()) {
        if (String(line).startsWith("ack ") && ++acks === 5 + round * 3) break
      }
      child.kill("SIGKILL")
      await child
    }
    const config = configFor(dir.path)
    const logged = readFileSync(config.paths.structuredEventLogPath, "utf8")
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => (JSON.parse(line) as { seq: number }).seq)
    expect(logged.length).toBeGreaterThan(8)
    for (let i = 1; i < logged.length; i++) expect(logged[i]).toBeGreaterThan(logged[i - 1] ?? 0)
    const next = await withEventLog(config, (log) => log.publish({ type: "after", message: "after" }))
    expect(next.seq).toBeGreaterThan(logged.at(-1) ?? 0)
  })
})
