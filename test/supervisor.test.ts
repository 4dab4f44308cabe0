import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { execa } from "execa"
import { afterEach, describe, expect, it } from "vitest"
import { DaemonState } from "../src/domain/daemon.ts"
import { decodeJsonText } from "../src/domain/decode.ts"
import { EventLog } from "../src/services/events/EventLog.ts"
import { idleChild } from "../src/services/status/statusSnapshot.ts"
import { Store } from "../src/services/store/Store.ts"
import { isProcessAlive } from "../src/system/processes.ts"
import { fakeAppServerPath } from "./support/fakePeer.ts"
import {
  childStateOf,
  clientOf,
  fastSupervisorOptions,
  type Harness,
  makeHarness,
  waitUntil,
  withSupervisor,
} from "./support/supervisorHarness.ts"

const harnesses: Array<Harness> = []
afterEach(() => {
  for (const h of harnesses.splice(0)) h.cleanup()
})
const harness = () => {
  const h = makeHarness()
  harnesses.push(h)
  return h
}
const spawnPid = (h: Harness, n: number) => Number(readFileSync(join(h.dir, `spawn-${n}`), "utf8"))
const persistedChild = (h: Harness) => {
  const decoded = decodeJsonText(
    DaemonState,
    "daemon.json",
  )(readFileSync(h.config.paths.daemonStatePath, "utf8"))
  if (decoded._tag !== "Success") throw decoded.failure
  return decoded.success.child
}

describe("Supervisor with the fake app-server", () => {
  it("starts the child, passes the readiness gate, and records it", async () => {
    const h = harness()
    await withSupervisor(h.config, (supervisor) =>
      Effect.gen(function* () {
        yield* supervisor.start
        expect(yield* supervisor.settled).toBe("running")
        expect(clientOf(supervisor)).not.toBeNull()
        const pid = spawnPid(h, 1)
        expect(childStateOf(supervisor)).toMatchObject({
          status: "running",
          pid,
          machineState: "alive.running",
        })
        yield* Effect.promise(() =>
          waitUntil(() => persistedChild(h).status === "running", 5_000, "persisted running"),
        )
        expect(persistedChild(h).pid).toBe(pid)
        // The state is saved before its event is published: wait for the event too.
        const eventLog = yield* EventLog
        const announced = () => Effect.runSync(eventLog.recent).events.filter((e) => e.type === "child.state")
        yield* Effect.promise(() =>
          waitUntil(
            () => announced().some((e) => e.detail?.state === "alive.running"),
            5_000,
            "the running state announced",
          ),
        )
        expect(announced().map((e) => e.detail?.state)).toEqual(
          expect.arrayContaining(["alive.starting", "alive.running"]),
        )
        yield* supervisor.stop
        expect(isProcessAlive(pid)).toBe(false)
        expect(childStateOf(supervisor).status).toBe("stopped")
      }),
    )
  })

  it("writes the raw protocol to the child stdout log only when asked", async () => {
    const h = harness()
    const run = (protocolLog: boolean) =>
      withSupervisor(
        h.config,
        (supervisor) =>
          Effect.gen(function* () {
            yield* supervisor.start
            yield* supervisor.settled
            yield* supervisor.stop
          }),
        { ...fastSupervisorOptions, protocolLog },
      )
    await run(false)
    expect(existsSync(h.config.paths.stdoutLogPath)).toBe(false)
    await run(true)
    const lines = readFileSync(h.config.paths.stdoutLogPath, "utf8").trim().split("\n")
    expect(lines[0]).toMatch(/^> \{"id":1,"method":"initialize"/)
    expect(lines.some((l) => l.startsWith('< {"id":1,"result"'))).toBe(true)
  })

  it("restarts a child that crashed at start, after the backoff", async () => {
    const h = harness()
    h.script({ onStart: [{ exit: 7 }] }, 1)
    await withSupervisor(h.config, (supervisor) =>
      Effect.gen(function* () {
        yield* supervisor.start
        expect(yield* supervisor.settled).toBe("running")
        // The state describes the current child; the previous one's exit is in the events.
        expect(childStateOf(supervisor)).toMatchObject({
          restartCount: 1,
          exitCode: null,
          pid: spawnPid(h, 2),
        })
        const exits = (yield* (yield* EventLog).recent).events.filter((e) => e.type === "child.exited")
        expect(exits[0]?.detail).toMatchObject({ exitCode: 7 })
        yield* supervisor.stop
      }),
    )
  })

  it("kills and restarts a child that never answers initialize", async () => {
    const h = harness()
    h.script({ requests: { initialize: [{ never: true }] } }, 1)
    await withSupervisor(
      h.config,
      (supervisor) =>
        Effect.gen(function* () {
          yield* supervisor.start
          expect(yield* supervisor.settled).toBe("running")
          expect(childStateOf(supervisor).restartCount).toBe(1)
          expect(childStateOf(supervisor).lastError).toContain("did not answer initialize")
          yield* Effect.promise(() =>
            waitUntil(() => !isProcessAlive(spawnPid(h, 1)), 5_000, "first child gone"),
          )
          yield* supervisor.stop
        }),
      {
        // The second child answers in a few hundred ms even on a loaded machine; ten times that here.
        startTimeoutMs: 3_000,
        killTimeoutMs: 200,
        maxRestarts: 3,
        restartWindowMs: 60_000,
        stableAfterMs: 60_000,
        backoffDelayMs: () => 10,
      },
    )
  })

  it("trips the crash-loop budget into failed, stays up, and restarts on request", async () => {
    const h = harness()
    h.script({ onStart: [{ kill: "SIGKILL" }] })
    await withSupervisor(h.config, (supervisor) =>
      Effect.gen(function* () {
        yield* supervisor.start
        expect(yield* supervisor.settled).toBe("failed")
        expect(childStateOf(supervisor)).toMatchObject({
          status: "failed",
          restartCount: 3,
          signal: "SIGKILL",
        })
        expect(existsSync(join(h.dir, "spawn-4"))).toBe(true)
        expect(existsSync(join(h.dir, "spawn-5"))).toBe(false)
        // No automatic restart out of failed.
        yield* Effect.sleep(100)
        expect(existsSync(join(h.dir, "spawn-5"))).toBe(false)
        h.script({})
        yield* supervisor.restart
        yield* Effect.promise(() =>
          waitUntil(() => childStateOf(supervisor).status === "running", 10_000, "running after restart"),
        )
        expect(childStateOf(supervisor).restartCount).toBe(0)
        yield* supervisor.stop
      }),
    )
  })

  it("says why the child failed: how it exited, when, its last stderr line, and the budget", async () => {
    const h = harness()
    h.script({ onStart: [{ stderr: "starting" }, { stderr: "fatal: config.toml is broken" }, { exit: 1 }] })
    await withSupervisor(h.config, (supervisor) =>
      Effect.gen(function* () {
        yield* supervisor.start
        expect(yield* supervisor.settled).toBe("failed")
        expect(childStateOf(supervisor).lastError).toBe(
          "exited with code 1 before answering initialize; stderr: fatal: config.toml is broken; gave up after 3 restarts within 60000 ms (crash-loop budget)",
        )
        // Saved too (the daemon state is written just after the change is visible).
        yield* Effect.promise(() =>
          waitUntil(
            () => persistedChild(h).lastError === childStateOf(supervisor).lastError,
            10_000,
            "the reason saved",
          ),
        )
      }),
    )
  })

  it("kills the child's process group when the child exits by itself, so nothing it started lives on", async () => {
    const h = harness()
    h.script({ requests: { "fake/exit": [{ orphan: true }, { exit: 0 }] } }, 1)
    await withSupervisor(h.config, (supervisor) =>
      Effect.gen(function* () {
        yield* supervisor.start
        expect(yield* supervisor.settled).toBe("running")
        const client = clientOf(supervisor)
        if (client === null) throw new Error("no client")
        yield* Effect.ignore(client.request("fake/exit"))
        yield* Effect.promise(() =>
          waitUntil(() => existsSync(join(h.dir, "orphan")), 10_000, "the orphan started"),
        )
        const orphan = Number(readFileSync(join(h.dir, "orphan"), "utf8"))
        yield* Effect.promise(() => waitUntil(() => !isProcessAlive(orphan), 10_000, "the orphan killed"))
        yield* supervisor.stop
      }),
    )
  })

  it("escalates to SIGKILL on stop when the child ignores SIGTERM", async () => {
    const h = harness()
    h.script({ ignoreSigterm: true })
    await withSupervisor(h.config, (supervisor) =>
      Effect.gen(function* () {
        yield* supervisor.start
        yield* supervisor.settled
        const pid = spawnPid(h, 1)
        yield* supervisor.stop
        expect(isProcessAlive(pid)).toBe(false)
      }),
    )
  })

  it("reaps a child left alive by a daemon killed with SIGKILL, and nothing else", async () => {
    const h = harness()
    const orphan = execa(process.execPath, [fakeAppServerPath], {
      detached: true,
      stdin: "pipe",
      reject: false,
    })
    const bystander = execa("sleep", ["30"], { reject: false })
    try {
      await Effect.runPromise(
        Effect.gen(function* () {
          const store = yield* Store
          yield* store.updateDaemonState(() => ({
            started: true,
            startedAt: new Date().toISOString(),
            stoppedAt: null,
            updatedAt: new Date().toISOString(),
            pid: 999_999,
            apiBase: null,
            child: { ...staleChild, pid: orphan.pid ?? 0, command: process.execPath },
          }))
        }).pipe(Effect.provide((await import("../src/daemon.ts")).foundationLayer(h.config))),
      )
      await withSupervisor(h.config, () =>
        Effect.gen(function* () {
          yield* Effect.promise(() =>
            waitUntil(() => !isProcessAlive(orphan.pid ?? 0), 5_000, "orphan killed"),
          )
          const reaped = (yield* (yield* EventLog).recent).events.find((e) => e.type === "child.reaped")
          expect(reaped?.detail).toMatchObject({ pid: orphan.pid })
        }),
      )
      // A pid that is not that command is left alone.
      await Effect.runPromise(
        Effect.gen(function* () {
          const store = yield* Store
          yield* store.updateDaemonState((s) => ({
            ...(s as DaemonState),
            child: { ...staleChild, pid: bystander.pid ?? 0, command: process.execPath },
          }))
        }).pipe(Effect.provide((await import("../src/daemon.ts")).foundationLayer(h.config))),
      )
      await withSupervisor(h.config, () => Effect.void)
      expect(isProcessAlive(bystander.pid ?? 0)).toBe(true)
    } finally {
      orphan.kill("SIGKILL")
      bystander.kill("SIGKILL")
      await Promise.all([orphan, bystander])
    }
  })
})

/** The recorded child of a previous daemon: running, with the pid and command filled in per case. */
const staleChild: DaemonState["child"] = {
  ...idleChild(makeHarness().config),
  status: "running",
  machineState: "alive.running",
}
