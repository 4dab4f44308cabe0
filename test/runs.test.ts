/** Sessions and runs through the real services over the fake app-server in codex-like mode. */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { SettingKey } from "../src/config.ts"
import type { RunRecord } from "../src/domain/run.ts"
import { fakeDaemonConfig, withDaemonServices } from "./support/daemonHarness.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const temps: Array<() => void> = []
afterEach(() => {
  for (const cleanup of temps.splice(0)) cleanup()
})

const fakeDaemon = (flags: Partial<Record<SettingKey, string>> = {}) => {
  const temp = makeTempDir("codexd-runs-")
  temps.push(temp.cleanup)
  writeFileSync(join(temp.path, "script.json"), JSON.stringify({ simulate: true }))
  return fakeDaemonConfig(temp.path, flags)
}

const resultOf = (run: RunRecord) => run.result as Record<string, unknown>

describe("Runs over the fake app-server", () => {
  it("runs a prompt in a new worker session: record, result, session and events carry every id", async () => {
    await withDaemonServices(fakeDaemon(), async (d) => {
      const queued = await d.run(d.runs.submit({ prompt: "hello there" }))
      expect(queued.status).toBe("queued")
      const run = await d.finished(queued.runId)
      expect(run.status).toBe("completed")
      expect(run.startedAt).not.toBeNull()
      expect(run.summary).toBe("completed: echo: hello there")
      const result = resultOf(run)
      expect(result.finalMessage).toBe("echo: hello there")
      expect(result.turnStatus).toBe("completed")
      expect(run.turnId).toBe(result.turnId)
      expect(run.threadId).toBe(result.threadId)
      const session = await d.run(d.sessions.get(run.sessionId as NonNullable<RunRecord["sessionId"]>))
      expect(session.purpose).toBe("worker")
      expect(session.threadId).toBe(run.threadId)
      expect(session.lastTurnId).toBe(run.turnId)
      expect(session.lastTurnStatus).toBe("completed")
      expect(session.currentTurnId).toBeNull()
      const delta = d.events.find((e) => e.type === "run.message.delta" && e.detail?.runId === run.runId)
      expect(delta?.detail).toMatchObject({
        runId: run.runId,
        sessionId: run.sessionId,
        threadId: run.threadId,
        turnId: run.turnId,
        delta: "echo: hello there",
      })
      const types = d.events.filter((e) => e.detail?.runId === run.runId).map((e) => e.type)
      expect(types).toEqual(
        expect.arrayContaining(["run.queued", "run.running", "run.state", "run.completed"]),
      )
    })
  })

  it("fails a turn codex failed with its error info, and names unknown and closed sessions", async () => {
    await withDaemonServices(fakeDaemon(), async (d) => {
      const run = await d.finished((await d.run(d.runs.submit({ prompt: "fail" }))).runId)
      expect(run.status).toBe("failed")
      expect(run.errorCode).toBe("turn-failed")
      expect(run.error).toBe("the model refused")
      expect(resultOf(run).codexErrorInfo).toEqual({ httpStatusCode: 500 })
      expect(d.events.some((e) => e.type === "run.error" && e.detail?.runId === run.runId)).toBe(true)

      const unknown = await d.run(
        Effect.flip(d.runs.submit({ prompt: "x", sessionId: "session_nope" as never })),
      )
      expect(unknown._tag).toBe("SessionNotFoundError")
      const session = await d.run(d.sessions.create({ purpose: "duplex" }))
      expect(session.threadId).toMatch(/^thread-/)
      const closed = await d.run(d.sessions.close(session.sessionId))
      expect(closed.status).toBe("closed")
      const refused = await d.run(Effect.flip(d.runs.submit({ prompt: "x", sessionId: session.sessionId })))
      expect(refused._tag).toBe("SessionClosedError")
      const missing = await d.run(Effect.flip(d.runs.get("run_nope" as never)))
      expect(missing._tag).toBe("RunNotFoundError")
    })
  })

  it("keeps one turn per session in FIFO order, a global limit, and serves sessions in turn", async () => {
    await withDaemonServices(fakeDaemon({ maxConcurrentRuns: "1" }), async (d) => {
      const a = await d.run(d.sessions.create({ purpose: "duplex" }))
      const b = await d.run(d.sessions.create({ purpose: "duplex" }))
      const a1 = await d.run(d.runs.submit({ prompt: "slow 60", sessionId: a.sessionId }))
      const a2 = await d.run(d.runs.submit({ prompt: "slow 10", sessionId: a.sessionId }))
      const a3 = await d.run(d.runs.submit({ prompt: "slow 10", sessionId: a.sessionId }))
      const b1 = await d.run(d.runs.submit({ prompt: "slow 10", sessionId: b.sessionId }))
      for (const run of [a1, a2, a3, b1]) await d.finished(run.runId)
      const order = d.events.filter((e) => e.type === "run.running").map((e) => e.detail?.runId)
      expect(order).toEqual([a1.runId, b1.runId, a2.runId, a3.runId])
    })
    await withDaemonServices(fakeDaemon({ maxConcurrentRuns: "2" }), async (d) => {
      const sessions = await Promise.all([1, 2, 3].map(() => d.run(d.sessions.create({ purpose: "duplex" }))))
      const submitted: Array<RunRecord> = []
      for (let i = 0; i < 4; i++)
        for (const s of sessions)
          submitted.push(await d.run(d.runs.submit({ prompt: `slow ${5 + i}`, sessionId: s.sessionId })))
      const runs = await Promise.all(submitted.map((r) => d.finished(r.runId)))
      // Replay start and end events: never over the limit, never two turns of one session at once.
      let active = 0
      const activeSessions = new Set<unknown>()
      for (const e of d.events) {
        if (e.type === "run.running") {
          active++
          expect(activeSessions.has(e.detail?.sessionId)).toBe(false)
          activeSessions.add(e.detail?.sessionId)
          expect(active).toBeLessThanOrEqual(2)
        } else if (e.type === "run.completed") {
          active--
          activeSessions.delete(e.detail?.sessionId)
        }
      }
      expect(runs.every((r) => r.status === "completed")).toBe(true)
      for (const s of sessions) {
        const ofSession = runs.filter((r) => r.sessionId === s.sessionId)
        const started = [...ofSession].sort((x, y) => (x.startedAt ?? "").localeCompare(y.startedAt ?? ""))
        expect(started.map((r) => r.runId)).toEqual(ofSession.map((r) => r.runId))
      }
    })
  })

  it("interrupts and steers running and queued runs", async () => {
    await withDaemonServices(fakeDaemon({ maxConcurrentRuns: "1" }), async (d) => {
      const session = await d.run(d.sessions.create({ purpose: "duplex" }))
      const hanging = await d.run(d.runs.submit({ prompt: "hang", sessionId: session.sessionId }))
      const queued = await d.run(d.runs.submit({ prompt: "first words", sessionId: session.sessionId }))
      const doomed = await d.run(d.runs.submit({ prompt: "never runs", sessionId: session.sessionId }))
      await d.waitForEvent(
        (e) =>
          e.type === "run.state" && e.detail?.runId === hanging.runId && e.detail?.state === "running.active",
      )
      await d.run(d.runs.steer(queued.runId, "second words"))
      await d.run(d.runs.interrupt(doomed.runId))
      const interruptedEarly = await d.finished(doomed.runId)
      expect(interruptedEarly.errorCode).toBe("interrupted")
      expect(interruptedEarly.startedAt).toBeNull()

      await d.run(d.runs.steer(hanging.runId, "wrap up"))
      const steered = await d.finished(hanging.runId)
      expect(steered.status).toBe("completed")
      expect(resultOf(steered).finalMessage).toBe("steered: wrap up")
      const edited = await d.finished(queued.runId)
      expect(edited.prompt).toBe("second words")
      expect(resultOf(edited).finalMessage).toBe("echo: second words")

      const again = await d.run(d.runs.submit({ prompt: "hang", sessionId: session.sessionId }))
      await d.waitForEvent(
        (e) =>
          e.type === "run.state" && e.detail?.runId === again.runId && e.detail?.state === "running.active",
      )
      await d.run(d.runs.interrupt(again.runId))
      const interrupted = await d.finished(again.runId)
      expect(interrupted.errorCode).toBe("interrupted")
      expect(resultOf(interrupted).turnStatus).toBe("interrupted")
      const late = await d.run(Effect.flip(d.runs.steer(again.runId, "too late")))
      expect(late._tag).toBe("RunStateError")
    })
  })

  it("fails a silent turn as stalled after the silence timeout, interrupting it", async () => {
    await withDaemonServices(fakeDaemon({ runSilenceTimeoutMs: "300" }), async (d) => {
      const run = await d.finished((await d.run(d.runs.submit({ prompt: "hang" }))).runId)
      expect(run.status).toBe("failed")
      expect(run.errorCode).toBe("stalled")
      expect(resultOf(run).turnStatus).toBe("interrupted")
    })
  })

  it("reconciles a thread that went idle without turn/completed through thread/read", async () => {
    await withDaemonServices(fakeDaemon(), async (d) => {
      const run = await d.finished((await d.run(d.runs.submit({ prompt: "idle" }))).runId)
      expect(run.status).toBe("completed")
      expect(resultOf(run).turnStatus).toBe("completed")
      expect(resultOf(run).finalMessage).toBe("done without saying so")
      expect(
        d.events.some(
          (e) => e.detail?.runId === run.runId && String(e.detail?.state).includes("reconciling"),
        ),
      ).toBe(true)
    })
  })
})

describe("Runs when the app-server exits", () => {
  it("fails the running run with child-exited at once; queued runs wait, then resume or replace their threads", async () => {
    await withDaemonServices(fakeDaemon({ maxConcurrentRuns: "1" }), async (d) => {
      const kept = await d.run(d.sessions.create({ purpose: "duplex" }))
      const first = await d.finished(
        (await d.run(d.runs.submit({ prompt: "hello", sessionId: kept.sessionId }))).runId,
      )
      expect(first.status).toBe("completed")
      const young = await d.run(d.sessions.create({ purpose: "duplex" }))

      const dying = await d.run(d.runs.submit({ prompt: "exit" }))
      const resumed = await d.run(d.runs.submit({ prompt: "after", sessionId: kept.sessionId }))
      const replaced = await d.run(d.runs.submit({ prompt: "again", sessionId: young.sessionId }))

      const died = await d.finished(dying.runId)
      expect(died.status).toBe("failed")
      expect(died.errorCode).toBe("child-exited")

      const onKept = await d.finished(resumed.runId)
      expect(onKept.status).toBe("completed")
      expect(onKept.threadId).toBe(first.threadId)
      expect(
        d.events.some((e) => e.type === "session.thread.resumed" && e.detail?.sessionId === kept.sessionId),
      ).toBe(true)

      const onYoung = await d.finished(replaced.runId)
      expect(onYoung.status).toBe("completed")
      expect(onYoung.threadId).not.toBe(young.threadId)
      const moved = d.events.find((e) => e.type === "session.thread.replaced")
      expect(moved?.detail).toMatchObject({
        sessionId: young.sessionId,
        previousThreadId: young.threadId,
        threadId: onYoung.threadId,
      })
      const restarted = d.events.filter((e) => e.type === "child.exited")
      expect(restarted.length).toBe(1)
    })
  })
})
