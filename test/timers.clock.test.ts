/**
 * Every deadline of the daemon on Effect's TestClock: nothing here waits in real time, so none of it
 * can fail on a loaded machine. The approval deadline runs in the real Approvals service (over a real
 * Store in a temp directory); the request timeout in a real AppServerClient over an in-memory
 * transport; the silence watchdog, the backoff sequence and the crash-loop budget in the real
 * machines, driven by the bridge's clock, with actors that are Effect programs and no processes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { createActor, type SnapshotFrom } from "xstate"
import { CodexdConfig } from "../src/config.ts"
import { foundationLayer } from "../src/daemon.ts"
import { newRunId, newSessionId } from "../src/domain/ids.ts"
import {
  backoffMs,
  type ChildMachineEvent,
  type ChildProcessInput,
  childMachine,
} from "../src/machines/childMachine.ts"
import { runMachine } from "../src/machines/runMachine.ts"
import { stateName } from "../src/machines/stateName.ts"
import { Approvals } from "../src/services/approvals/Approvals.ts"
import { makeAppServerClient } from "../src/services/appServer/AppServerClient.ts"
import { EventLog } from "../src/services/events/EventLog.ts"
import { exhaustedUntilMs, makeUsageHold } from "../src/services/runs/usageHold.ts"
import { makeBridge } from "../src/services/runtime.ts"
import { neverStarted } from "../src/services/status/statusSnapshot.ts"
import { Store } from "../src/services/store/Store.ts"
import { eventTime } from "../src/services/supervisor/attachment.ts"
import type { Transport } from "../src/services/transport/Transport.ts"
import { makeRun } from "./support/runs.ts"
import { configFor, makeTempDir } from "./support/tempConfig.ts"

/**
 * Wait, in real time, until `ready` holds: for promise callbacks and file writes, which no clock
 * moves. The bound is generous (they take milliseconds); TestClock time does not pass meanwhile.
 */
const until = (ready: () => boolean, what: string) =>
  Effect.promise(async () => {
    for (const end = Date.now() + 20_000; !ready(); ) {
      if (Date.now() > end) throw new Error(`never saw ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  })

const tempFoundation = (flags: Parameters<typeof configFor>[1] = {}) =>
  Layer.unwrap(
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => makeTempDir("codexd-clock-")),
        (temp) => Effect.sync(temp.cleanup),
      ),
      (temp) => foundationLayer(configFor(temp.path, flags)),
    ),
  )

describe("the approval deadline", () => {
  const timeoutMs = 120_000

  it.effect("declines an unanswered approval at its deadline, not a moment before", () =>
    Effect.gen(function* () {
      const approvals = yield* Approvals
      const runId = newRunId()
      const signals = yield* approvals.signals
      const seen: Array<string> = []
      const collect = yield* Effect.forkScoped(
        Stream.runForEach(signals, (signal) => Effect.sync(() => seen.push(signal._tag))),
      )
      yield* approvals.route("thread-1", {
        runId,
        sessionId: newSessionId(),
        mode: "ask",
        turnId: () => "turn-1",
        diffOf: () => null,
      })
      const answer = yield* Effect.forkScoped(
        approvals.handleServerRequest({
          id: 7,
          method: "item/commandExecution/requestApproval",
          params: { threadId: "thread-1", turnId: "turn-1", itemId: "item-1", command: "make test" },
        }),
      )
      const pending = () => Effect.map(approvals.list, (list) => list.filter((a) => a.status === "pending"))
      yield* until(() => seen.includes("Asked"), "the approval asked")
      const [asked] = yield* pending()
      expect(asked).toMatchObject({
        command: "make test",
        runId,
        deadlineAt: new Date(timeoutMs).toISOString(),
      })

      yield* TestClock.adjust(timeoutMs - 1)
      expect(yield* pending()).toHaveLength(1)
      expect(answer.pollUnsafe()).toBeUndefined()

      yield* TestClock.adjust(1)
      expect(yield* Fiber.join(answer)).toEqual({ result: { decision: "decline" } })
      expect(yield* pending()).toEqual([])
      const [expired] = yield* approvals.list
      expect(expired).toMatchObject({
        status: "expired",
        decision: "decline",
        settledAt: expired?.deadlineAt,
      })
      yield* until(() => seen.includes("Expired"), "the expiry signal")
      expect(seen.slice(0, 2)).toEqual(["Asked", "Expired"])
      yield* Fiber.interrupt(collect)
    }).pipe(
      Effect.provide(
        Approvals.layer.pipe(Layer.provideMerge(tempFoundation({ approvalTimeoutMs: String(timeoutMs) }))),
      ),
    ),
  )
})

describe("the usage-limit hold", () => {
  it.effect("holds the queue until codex's reset time, not a moment less, then releases it by itself", () =>
    Effect.gen(function* () {
      const store = yield* Store
      const config = yield* CodexdConfig
      // What codex reported into the daemon state: the primary window used up, reset at 90 s.
      yield* store.updateDaemonState(() => ({
        ...neverStarted(config),
        rateLimits: { primary: { usedPercent: 100, windowDurationMins: 300, resetsAt: 90 } },
      }))
      let released = 0
      const hold = yield* makeUsageHold(
        store,
        yield* EventLog,
        Effect.sync(() => {
          released += 1
        }),
      )
      expect(yield* hold.held).toBe(false)
      yield* hold.hold(makeRun({ status: "failed" }))
      expect(yield* hold.held).toBe(true)
      expect((yield* store.daemonState)?.usageHold?.until).toBe(new Date(90_000).toISOString())

      yield* TestClock.adjust(89_999)
      expect(yield* hold.held).toBe(true)
      expect(released).toBe(0)
      yield* TestClock.adjust(1)
      yield* until(() => released === 1, "the release")
      expect(yield* hold.held).toBe(false)
      expect((yield* store.daemonState)?.usageHold).toBeNull()
    }).pipe(Effect.provide(tempFoundation())),
  )

  it("takes the latest reset of the windows used up, ignoring those with room or already reset", () => {
    const windows = {
      primary: { usedPercent: 100, resetsAt: 50 },
      secondary: { usedPercent: 100, resetsAt: 70 },
    }
    expect(exhaustedUntilMs(windows, 10_000)).toBe(70_000)
    expect(exhaustedUntilMs({ ...windows, secondary: { usedPercent: 99, resetsAt: 70 } }, 10_000)).toBe(
      50_000,
    )
    expect(exhaustedUntilMs(windows, 80_000)).toBeNull()
    expect(exhaustedUntilMs(null, 0)).toBeNull()
  })
})

describe("the request timeout", () => {
  /** A peer that takes every line and never answers. */
  const silentPeer = (): Transport & { readonly sent: Array<string> } => {
    const sent: Array<string> = []
    return {
      sent,
      describe: "memory://silent",
      start: () => undefined,
      send: (line) => {
        sent.push(line)
        return true
      },
      close: () => undefined,
    }
  }

  it.effect("fails a request that is never answered at its timeout, per request or by default", () =>
    Effect.gen(function* () {
      const peer = silentPeer()
      const client = yield* makeAppServerClient(peer, {
        clientInfo: { name: "codexd-test", title: null, version: "0.0.0" },
        requestTimeoutMs: 5_000,
      })
      const byDefault = yield* Effect.forkScoped(Effect.flip(client.threadList({})))
      const ownTimeout = yield* Effect.forkScoped(
        Effect.flip(client.request("thread/read", { threadId: "t" }, { timeoutMs: 60_000 })),
      )
      yield* until(() => peer.sent.length === 2, "both requests sent")
      expect(peer.sent.map((line) => JSON.parse(line).method)).toEqual(["thread/list", "thread/read"])

      yield* TestClock.adjust(4_999)
      expect(byDefault.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust(1)
      expect(yield* Fiber.join(byDefault)).toMatchObject({
        _tag: "RequestTimeoutError",
        method: "thread/list",
        timeoutMs: 5_000,
      })
      yield* TestClock.adjust(54_999)
      expect(ownTimeout.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust(1)
      expect(yield* Fiber.join(ownTimeout)).toMatchObject({ _tag: "RequestTimeoutError", timeoutMs: 60_000 })
    }),
  )
})

describe("the silence watchdog", () => {
  const silenceTimeoutMs = 600_000

  const startRun = Effect.gen(function* () {
    const bridge = yield* makeBridge()
    const machine = runMachine.provide({
      actors: { startTurn: bridge.fromEffect(() => Effect.succeed({ turnId: "turn-1" })) },
      delays: { silenceTimeout: silenceTimeoutMs, idleGrace: 2_000, interruptGrace: 10_000 },
    })
    const actor = createActor(machine, { clock: bridge.clock, input: { runId: newRunId(), prompt: "p" } })
    actor.start()
    yield* Effect.addFinalizer(() => Effect.sync(() => actor.stop()))
    actor.send({ type: "SCHEDULED" })
    const state = () => stateName(actor.getSnapshot().value)
    yield* until(() => state() === "running.active", "the turn active")
    return { actor, state }
  })

  it.effect("interrupts a turn silent for the timeout; any activity starts the count again", () =>
    Effect.gen(function* () {
      const { actor, state } = yield* startRun
      yield* TestClock.adjust(silenceTimeoutMs - 1)
      expect(state()).toBe("running.active")
      actor.send({ type: "ACTIVITY" })
      yield* TestClock.adjust(silenceTimeoutMs - 1)
      expect(state()).toBe("running.active")
      yield* TestClock.adjust(1)
      yield* until(() => state() !== "running.active", "the watchdog")
      expect(state()).toBe("running.interrupting")
      expect(actor.getSnapshot().context.interruptReason?.code).toBe("stalled")
    }),
  )

  it.effect("does not count the time a person takes to answer an approval", () =>
    Effect.gen(function* () {
      const { actor, state } = yield* startRun
      actor.send({ type: "APPROVAL.ASKED" })
      yield* TestClock.adjust(silenceTimeoutMs * 10)
      expect(state()).toBe("running.awaitingApproval")
      actor.send({ type: "APPROVAL.SETTLED" })
      yield* TestClock.adjust(silenceTimeoutMs - 1)
      expect(state()).toBe("running.active")
      yield* TestClock.adjust(1)
      yield* until(() => state() === "running.interrupting", "the watchdog after the approval")
    }),
  )
})

describe("restarts: the backoff sequence and the crash-loop budget", () => {
  /**
   * The child machine with a child that crashes as soon as it is spawned, on the bridge's clock:
   * the spawn times it records are TestClock times.
   */
  const crashingChild = (budget: { readonly maxRestarts: number; readonly restartWindowMs: number }) =>
    Effect.gen(function* () {
      const bridge = yield* makeBridge()
      const spawnedAt: Array<number> = []
      const machine = childMachine.provide({
        actors: {
          childProcess: bridge.fromScoped<ChildMachineEvent, ChildProcessInput>((_input, sendBack) =>
            Effect.gen(function* () {
              const time = yield* eventTime
              spawnedAt.push(time.atMs)
              sendBack({ type: "CHILD.SPAWNED", pid: 1000 + spawnedAt.length, ...time })
              sendBack({ type: "CHILD.EXITED", exitCode: 1, signal: null, error: "crashed", ...time })
            }),
          ),
        },
        delays: {
          startTimeout: 20_000,
          stableAfter: 60_000,
          // The daemon's backoff without its jitter, so the sequence is exact.
          backoffDelay: ({ context }) => backoffMs(context.consecutiveFailures),
        },
      })
      const actor = createActor(machine, {
        clock: bridge.clock,
        input: {
          strategy: "spawn",
          mode: "app-server",
          endpoint: "stdio://",
          command: "codex",
          args: ["app-server"],
          cwd: "/srv/project",
          ...budget,
        },
      })
      actor.start()
      yield* Effect.addFinalizer(() => Effect.sync(() => actor.stop()))
      const snapshot = (): SnapshotFrom<typeof childMachine> => actor.getSnapshot()
      actor.send({ type: "START" })
      return { spawnedAt, snapshot, state: () => stateName(snapshot().value) }
    })

  it.effect("restarts after 250 ms, 500 ms, 1 s, 2 s, … capped at 30 s", () =>
    Effect.gen(function* () {
      const child = yield* crashingChild({ maxRestarts: 100, restartWindowMs: 1_000 })
      yield* until(() => child.spawnedAt.length === 1, "the first spawn")
      const gaps = [250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]
      for (const [i, gap] of gaps.entries()) {
        yield* until(() => child.state() === "backoff", `backoff ${i + 1}`)
        yield* TestClock.adjust(gap - 1)
        expect(child.spawnedAt).toHaveLength(i + 1)
        yield* TestClock.adjust(1)
        yield* until(() => child.spawnedAt.length === i + 2, `spawn ${i + 2}`)
      }
      const observed = child.spawnedAt.slice(1).map((at, i) => at - (child.spawnedAt[i] as number))
      expect(observed).toEqual(gaps)
      // Restarts spaced wider than the window never trip the budget: it is backing off again.
      yield* until(() => child.state() === "backoff", "the next backoff")
      expect(child.snapshot().context.restartCount).toBe(gaps.length + 1)
    }),
  )

  it.effect("gives up after maxRestarts within the window, says so, and stays failed", () =>
    Effect.gen(function* () {
      const child = yield* crashingChild({ maxRestarts: 3, restartWindowMs: 60_000 })
      yield* until(() => child.state() === "backoff", "the first backoff")
      // Every backoff that ends within these 30 s runs, each from where the last one ended.
      yield* TestClock.adjust(30_000)
      yield* until(() => child.state() === "failed", "the budget tripping")
      expect(child.snapshot().context.lastError).toContain("gave up after 3 restarts within 60000 ms")
      // Failed stays failed: no timer brings it back.
      yield* TestClock.adjust(3_600_000)
      expect(child.state()).toBe("failed")
      expect(child.spawnedAt).toHaveLength(4)
      expect(child.spawnedAt).toEqual([0, 250, 750, 1_750])
      expect(child.snapshot().context.restartTimes).toEqual([0, 250, 750])
    }),
  )
})
