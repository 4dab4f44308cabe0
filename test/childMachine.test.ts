/** childMachine on its own: a fake process actor and a simulated clock, no processes, no real time. */
import { describe, expect, it } from "vitest"
import { createActor, fromCallback, SimulatedClock } from "xstate"
import {
  type AppServerConnectionInput,
  backoffMs,
  type ChildMachineEvent,
  type ChildMachineInput,
  type ChildProcessInput,
  childMachine,
  childStatusOf,
} from "../src/machines/childMachine.ts"
import { stateName } from "../src/machines/stateName.ts"

const input: ChildMachineInput = {
  strategy: "spawn",
  mode: "app-server",
  endpoint: "stdio://",
  command: "/opt/codex",
  args: ["app-server"],
  cwd: "/srv",
  maxRestarts: 3,
  restartWindowMs: 60_000,
}

/** A machine whose process actor records spawns and cleanups and lets the test drive it. */
const harness = (overrides: Partial<ChildMachineInput> = {}) => {
  const clock = new SimulatedClock()
  const spawns: Array<ChildProcessInput> = []
  const connections: Array<AppServerConnectionInput> = []
  const probes: Array<ChildProcessInput> = []
  let cleanups = 0
  let sendToMachine: ((event: ChildMachineEvent) => void) | null = null
  let now = 1_000_000
  const machine = childMachine.provide({
    actors: {
      childProcess: fromCallback<ChildMachineEvent, ChildProcessInput>(
        ({ sendBack, input: processInput }) => {
          spawns.push(processInput)
          sendToMachine = sendBack
          sendBack({
            type: "CHILD.SPAWNED",
            pid: 100 + spawns.length,
            at: new Date(now).toISOString(),
            atMs: now,
          })
          return () => {
            cleanups += 1
          }
        },
      ),
      appServerConnection: fromCallback<ChildMachineEvent, AppServerConnectionInput>(
        ({ sendBack, input: connectionInput }) => {
          connections.push(connectionInput)
          sendToMachine = sendBack
          return () => {
            cleanups += 1
          }
        },
      ),
      execProbe: fromCallback<ChildMachineEvent, ChildProcessInput>(({ sendBack, input: probeInput }) => {
        probes.push(probeInput)
        sendToMachine = sendBack
        return () => undefined
      }),
    },
    delays: {
      startTimeout: 1_000,
      stableAfter: 5_000,
      backoffDelay: ({ context }) => backoffMs(context.consecutiveFailures),
    },
  })
  const actor = createActor(machine, { input: { ...input, ...overrides }, clock })
  actor.start()
  const state = () => stateName(actor.getSnapshot().value)
  return {
    actor,
    clock,
    spawns,
    connections,
    probes,
    cleanups: () => cleanups,
    state,
    ready: () =>
      sendToMachine?.({ type: "CHILD.READY", userAgent: "fake/1.0", at: new Date(0).toISOString() }),
    exit: (exitCode: number | null, signal: string | null = null) =>
      sendToMachine?.({
        type: "CHILD.EXITED",
        exitCode,
        signal,
        error: null,
        at: new Date(now).toISOString(),
        atMs: now,
      }),
    advance: (ms: number) => {
      now += ms
      clock.increment(ms)
    },
    context: () => actor.getSnapshot().context,
  }
}

describe("childMachine", () => {
  it("starts, waits for initialize, runs", () => {
    const h = harness()
    expect(h.state()).toBe("idle")
    h.actor.send({ type: "START" })
    expect(h.state()).toBe("alive.starting")
    expect(h.context().pid).toBe(101)
    h.ready()
    expect(h.state()).toBe("alive.running")
    expect(h.spawns).toEqual([{ command: "/opt/codex", args: ["app-server"], cwd: "/srv" }])
  })

  it("counts a start timeout as a failed start: kills the child and backs off", () => {
    const h = harness()
    h.actor.send({ type: "START" })
    h.advance(999)
    expect(h.state()).toBe("alive.starting")
    h.advance(1)
    expect(h.state()).toBe("backoff")
    expect(h.cleanups()).toBe(1)
    expect(h.context()).toMatchObject({
      restartCount: 1,
      lastError: "the app-server did not answer initialize in time",
      pid: null,
    })
    h.advance(backoffMs(1))
    expect(h.state()).toBe("alive.starting")
    expect(h.spawns).toHaveLength(2)
  })

  it("backs off exponentially, and resets the backoff after stable running", () => {
    expect([1, 2, 3, 4, 10].map(backoffMs)).toEqual([250, 500, 1000, 2000, 30_000])
    const h = harness({ maxRestarts: 10 })
    h.actor.send({ type: "START" })
    h.ready()
    h.exit(1)
    expect(h.state()).toBe("backoff")
    h.advance(249)
    expect(h.state()).toBe("backoff")
    h.advance(1)
    h.ready()
    h.exit(1)
    expect(h.context().consecutiveFailures).toBe(2)
    h.advance(499)
    expect(h.state()).toBe("backoff")
    h.advance(1)
    h.ready()
    h.advance(5_000)
    expect(h.context().consecutiveFailures).toBe(0)
    expect(h.context().restartCount).toBe(2)
  })

  it("trips the crash-loop budget into failed, and only a manual restart leaves it", () => {
    const h = harness({ maxRestarts: 2 })
    h.actor.send({ type: "START" })
    for (let i = 0; i < 2; i++) {
      h.exit(1)
      expect(h.state()).toBe("backoff")
      h.advance(1_000)
    }
    h.exit(null, "SIGKILL")
    expect(h.state()).toBe("failed")
    expect(h.context()).toMatchObject({ restartCount: 2, signal: "SIGKILL", exitCode: null })
    h.advance(600_000)
    expect(h.state()).toBe("failed")
    h.actor.send({ type: "RESTART" })
    expect(h.state()).toBe("alive.starting")
    expect(h.context().restartCount).toBe(0)
  })

  it("forgets restarts older than the window", () => {
    const h = harness({ maxRestarts: 1, restartWindowMs: 10_000 })
    h.actor.send({ type: "START" })
    h.exit(1)
    h.advance(20_000)
    h.exit(1)
    expect(h.state()).toBe("backoff")
  })

  it("stops from every state, ending the process", () => {
    const h = harness()
    h.actor.send({ type: "START" })
    h.ready()
    h.actor.send({ type: "STOP" })
    expect(h.state()).toBe("stopped")
    expect(h.cleanups()).toBe(1)
    expect(h.context().pid).toBeNull()
    h.actor.send({ type: "RESTART" })
    expect(h.state()).toBe("alive.starting")
    h.exit(1)
    h.actor.send({ type: "STOP" })
    expect(h.state()).toBe("stopped")
  })

  it("attaches instead of spawning with the external strategy, and reconnects forever", () => {
    const h = harness({ strategy: "external", endpoint: "ws://127.0.0.1:4500" })
    h.actor.send({ type: "START" })
    expect(h.state()).toBe("external.link.connecting")
    expect(h.spawns).toHaveLength(0)
    expect(h.connections).toEqual([{ endpoint: "ws://127.0.0.1:4500" }])
    h.actor.send({ type: "CHILD.READY", userAgent: "codex/1", at: "2026-01-01T00:00:00.000Z" })
    expect(h.state()).toBe("external.link.connected")
    expect(h.context()).toMatchObject({ userAgent: "codex/1", startedAt: "2026-01-01T00:00:00.000Z" })
    // Far more drops than the spawn budget allows: an attached server is never given up on.
    for (let i = 1; i <= 8; i++) {
      h.exit(null)
      expect(h.state()).toBe("external.reconnecting")
      expect(h.context().restartCount).toBe(i)
      h.advance(backoffMs(i))
      expect(h.state()).toBe("external.link.connecting")
    }
    expect(h.connections).toHaveLength(9)
    // A server that accepts the socket but never answers initialize is retried too.
    h.advance(1_000)
    expect(h.state()).toBe("external.reconnecting")
    expect(h.context().lastError).toBe("the external app-server did not answer initialize in time")
    // A manual restart attaches again at once, with a fresh budget; stop only closes the connection.
    h.actor.send({ type: "RESTART" })
    expect(h.state()).toBe("external.link.connecting")
    expect(h.context().restartCount).toBe(0)
    h.actor.send({ type: "STOP" })
    expect(h.state()).toBe("stopped")
    h.actor.send({ type: "RESTART" })
    expect(h.state()).toBe("external.link.connecting")
    expect(h.spawns).toHaveLength(0)
  })

  it("has no long-lived child in exec mode: it only probes the binary", () => {
    const h = harness({ mode: "exec" })
    h.actor.send({ type: "START" })
    expect(h.state()).toBe("exec")
    expect(h.spawns).toHaveLength(0)
    expect(h.probes).toEqual([{ command: "/opt/codex", args: ["--version"], cwd: "/srv" }])
    h.actor.send({ type: "CHILD.READY", userAgent: "codex-cli 0.169.0", at: "2026-01-01T00:00:00.000Z" })
    expect(h.state()).toBe("exec")
    expect(h.context().userAgent).toBe("codex-cli 0.169.0")

    const broken = harness({ mode: "exec" })
    broken.actor.send({ type: "START" })
    broken.exit(127)
    expect(broken.state()).toBe("exec")
    expect(broken.context()).toMatchObject({ exitCode: 127, userAgent: null })
  })

  it("maps machine states to the contract's child statuses", () => {
    const states = ["idle", "alive.starting", "alive.running", "backoff", "failed", "stopped"]
    expect(states.map(childStatusOf)).toEqual([
      "idle",
      "starting",
      "running",
      "starting",
      "failed",
      "stopped",
    ])
    const attached = ["external.link.connecting", "external.link.connected", "external.reconnecting"]
    expect(attached.map(childStatusOf)).toEqual(["external", "external", "external"])
    expect(childStatusOf("exec")).toBe("idle")
  })
})
