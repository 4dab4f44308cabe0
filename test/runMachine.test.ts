/** runMachine on its own: fake turn actors and a simulated clock. */
import { describe, expect, it } from "vitest"
import { createActor, fromPromise, SimulatedClock } from "xstate"
import { type RunMachineEvent, runMachine, type TurnOutcome } from "../src/machines/runMachine.ts"

const flush = () => new Promise((r) => setTimeout(r, 0))

const harness = (options: { startFails?: boolean; readOutcome?: TurnOutcome } = {}) => {
  const clock = new SimulatedClock()
  const started: Array<string> = []
  const interrupts: Array<string | null> = []
  const machine = runMachine.provide({
    actors: {
      startTurn: fromPromise(async ({ input }: { input: { runId: string; prompt: string } }) => {
        started.push(input.prompt)
        if (options.startFails) throw new Error("thread not found")
        return { turnId: "turn-1" }
      }),
      interruptTurn: fromPromise(async ({ input }: { input: { runId: string; turnId: string | null } }) => {
        interrupts.push(input.turnId)
      }),
      readTurn: fromPromise(
        async () => options.readOutcome ?? { status: "completed" as const, errorMessage: null },
      ),
    },
    delays: { silenceTimeout: 1_000, idleGrace: 200, interruptGrace: 500 },
  })
  const actor = createActor(machine, { input: { runId: "run-1", prompt: "hello" }, clock })
  actor.start()
  const state = () => JSON.stringify(actor.getSnapshot().value)
  const send = (event: RunMachineEvent) => actor.send(event)
  return { actor, clock, started, interrupts, state, send, context: () => actor.getSnapshot().context }
}

const runningActive = '{"running":"active"}'

describe("runMachine", () => {
  it("queued → running → completed", async () => {
    const h = harness()
    expect(h.state()).toBe('"queued"')
    h.send({ type: "STEER", text: "hello, edited" })
    h.send({ type: "SCHEDULED" })
    await flush()
    expect(h.started).toEqual(["hello, edited"])
    expect(h.state()).toBe(runningActive)
    expect(h.context().turnId).toBe("turn-1")
    h.send({ type: "TURN.COMPLETED", status: "completed", errorMessage: null })
    expect(h.state()).toBe('"completed"')
    expect(h.context().failure).toBeNull()
  })

  it("fails with turn-failed and codex's error info", async () => {
    const h = harness()
    h.send({ type: "SCHEDULED" })
    await flush()
    h.send({
      type: "TURN.COMPLETED",
      status: "failed",
      errorMessage: "model said 500",
      codexErrorInfo: { httpStatus: 500 },
    })
    expect(h.state()).toBe('"failed"')
    expect(h.context().failure).toEqual({
      code: "turn-failed",
      message: "model said 500",
      codexErrorInfo: { httpStatus: 500 },
    })
  })

  it("fails with rejected-at-start when turn/start is refused", async () => {
    const h = harness({ startFails: true })
    h.send({ type: "SCHEDULED" })
    await flush()
    expect(h.state()).toBe('"failed"')
    expect(h.context().failure?.code).toBe("rejected-at-start")
    expect(h.context().failure?.message).toContain("thread not found")
  })

  it("interrupts on request and fails as interrupted", async () => {
    const h = harness()
    h.send({ type: "SCHEDULED" })
    await flush()
    h.send({ type: "INTERRUPT" })
    expect(h.state()).toBe('{"running":"interrupting"}')
    await flush()
    expect(h.interrupts).toEqual(["turn-1"])
    h.send({ type: "TURN.COMPLETED", status: "interrupted", errorMessage: null })
    expect(h.context().failure?.code).toBe("interrupted")
  })

  it("fails a run interrupted while queued without starting it", () => {
    const h = harness()
    h.send({ type: "INTERRUPT" })
    expect(h.state()).toBe('"failed"')
    expect(h.started).toEqual([])
  })

  it("watchdog: silence interrupts and fails as stalled; activity resets it", async () => {
    const h = harness()
    h.send({ type: "SCHEDULED" })
    await flush()
    h.clock.increment(900)
    h.send({ type: "ACTIVITY" })
    h.clock.increment(900)
    expect(h.state()).toBe(runningActive)
    h.clock.increment(100)
    expect(h.state()).toBe('{"running":"interrupting"}')
    // The interrupt never gets turn/completed: the run fails anyway after the grace.
    h.clock.increment(500)
    expect(h.state()).toBe('"failed"')
    expect(h.context().failure?.code).toBe("stalled")
  })

  it("does not count a wait for approval as silence; a timed-out approval names the failure", async () => {
    const h = harness()
    h.send({ type: "SCHEDULED" })
    await flush()
    h.send({ type: "APPROVAL.ASKED" })
    h.clock.increment(5_000)
    expect(h.state()).toBe('{"running":"awaitingApproval"}')
    h.send({ type: "APPROVAL.TIMED_OUT" })
    expect(h.state()).toBe('{"running":"interrupting"}')
    await flush()
    expect(h.interrupts).toEqual(["turn-1"])
    h.send({ type: "TURN.COMPLETED", status: "interrupted", errorMessage: null })
    expect(h.context().failure?.code).toBe("approval-timed-out")
  })

  it("applies an interrupt asked for while the turn is starting once turn/start answers", async () => {
    const h = harness()
    h.send({ type: "SCHEDULED" })
    expect(h.state()).toBe('{"running":"starting"}')
    h.send({ type: "INTERRUPT" })
    await flush()
    expect(h.state()).toBe('{"running":"interrupting"}')
    expect(h.interrupts).toEqual(["turn-1"])
    h.send({ type: "TURN.COMPLETED", status: "interrupted", errorMessage: null })
    expect(h.context().failure?.code).toBe("interrupted")
  })

  it("reconciles a thread that went idle before turn/start was answered", async () => {
    const h = harness({ readOutcome: { status: "completed", errorMessage: null } })
    h.send({ type: "SCHEDULED" })
    h.send({ type: "ACTIVITY" })
    h.send({ type: "THREAD.IDLE" })
    await flush()
    expect(h.state()).toBe('{"running":{"reconciling":"grace"}}')
    h.clock.increment(200)
    await flush()
    expect(h.state()).toBe('"completed"')
  })

  it("reconciles an idle thread with thread/read after a grace", async () => {
    const h = harness({ readOutcome: { status: "completed", errorMessage: null } })
    h.send({ type: "SCHEDULED" })
    await flush()
    h.send({ type: "THREAD.IDLE" })
    h.clock.increment(199)
    expect(h.state()).toBe('{"running":{"reconciling":"grace"}}')
    h.clock.increment(1)
    await flush()
    expect(h.state()).toBe('"completed"')
  })

  it("goes back to waiting when turn/completed arrives during the grace or thread/read says still running", async () => {
    const h = harness({ readOutcome: { status: "inProgress", errorMessage: null } })
    h.send({ type: "SCHEDULED" })
    await flush()
    h.send({ type: "THREAD.IDLE" })
    h.clock.increment(200)
    await flush()
    expect(h.state()).toBe(runningActive)
    h.send({ type: "THREAD.IDLE" })
    h.send({ type: "TURN.COMPLETED", status: "completed", errorMessage: null })
    expect(h.state()).toBe('"completed"')
  })

  it("fails with child-exited when the app-server dies under the turn", async () => {
    const h = harness()
    h.send({ type: "SCHEDULED" })
    await flush()
    h.send({ type: "CHILD.EXITED", reason: "the app-server exited (signal SIGKILL)" })
    expect(h.context().failure).toEqual({
      code: "child-exited",
      message: "the app-server exited (signal SIGKILL)",
    })
  })
})
