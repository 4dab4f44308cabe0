/**
 * Crash recovery: a process running the daemon's services is killed with SIGKILL at random moments
 * while it accepts and runs a stream of runs against the fake app-server. Every acknowledged run must
 * be found afterwards, none left running, and no approval left pending.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { execa } from "execa"
import { afterEach, describe, expect, it } from "vitest"
import { foundationLayer } from "../src/daemon.ts"
import { newSessionRecord } from "../src/domain/session.ts"
import { Store } from "../src/services/store/Store.ts"
import { isLiveProcessOf } from "../src/services/supervisor/staleChild.ts"
import { fakeDaemonConfig, withDaemonServices } from "./support/daemonHarness.ts"
import { makeRun } from "./support/runs.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const fixture = join(import.meta.dirname, "fixtures", "runsDaemon.ts")
const temps: Array<() => void> = []
afterEach(() => {
  for (const cleanup of temps.splice(0)) cleanup()
})

const startFixture = (repo: string, mode: "submit" | "drain") => {
  const child = execa(process.execPath, [fixture, repo, mode], {
    reject: false,
    buffer: false,
    stderr: "inherit",
  })
  const lines: Array<string> = []
  let exited = false
  void child.finally(() => {
    exited = true
  })
  const reading = (async () => {
    for await (const line of child.iterable()) lines.push(String(line))
  })()
  const waitFor = async (line: string, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs
    while (!lines.includes(line)) {
      if (exited || Date.now() > until)
        throw new Error(`no "${line}" from the fixture; saw ${lines.join(" | ")}`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }
  return { child, lines, waitFor, reading }
}

describe("crash recovery", () => {
  it("loses no acknowledged run and leaves none running across SIGKILLs at random moments", async () => {
    const temp = makeTempDir("codexd-crash-")
    temps.push(temp.cleanup)
    writeFileSync(join(temp.path, "script.json"), JSON.stringify({ simulate: true }))
    const acked = new Set<string>()
    const rounds = 6
    try {
      for (let round = 0; round < rounds; round++) {
        const proc = startFixture(temp.path, "submit")
        await proc.waitFor("ready")
        await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 400)))
        proc.child.kill("SIGKILL")
        await proc.child
        await proc.reading
        for (const line of proc.lines) if (line.startsWith("ack ")) acked.add(line.slice(4))
      }
      const drain = startFixture(temp.path, "drain")
      await drain.waitFor("drained", 60_000)
      await drain.child
      expect((await drain.child).exitCode).toBe(0)
    } finally {
      // Children of killed daemons are reaped by the next one; the last may be left: kill what lives.
      for (const name of readdirSync(temp.path).filter((n) => n.startsWith("spawn-"))) {
        const pid = Number(readFileSync(join(temp.path, name), "utf8"))
        if (isLiveProcessOf(pid, process.execPath)) process.kill(pid, "SIGKILL")
      }
    }

    expect(acked.size).toBeGreaterThan(rounds)
    const config = fakeDaemonConfig(temp.path)
    const { runs, approvals, corrupt } = await Effect.runPromise(
      Effect.gen(function* () {
        const store = yield* Store
        const all = yield* Effect.forEach([...acked], (id) => store.findRun(id as never))
        return { runs: all, approvals: (yield* store.approvals).approvals, corrupt: store.corruptFiles }
      }).pipe(Effect.provide(foundationLayer(config))),
    )
    expect(corrupt).toEqual([])
    const missing = [...acked].filter((_, i) => runs[i] === null)
    expect(missing).toEqual([])
    const statuses = new Set(runs.map((r) => r?.status))
    expect(statuses.has("running")).toBe(false)
    expect(statuses.has("queued")).toBe(false)
    expect(runs.some((r) => r?.errorCode === "daemon-restarted")).toBe(true)
    expect(approvals.filter((a) => a.status === "pending")).toEqual([])
  })
})

describe("recovery on start", () => {
  it("completes a run codex finished while the daemon was down, fails the lost one, runs the unstarted one, cancels pending approvals", async () => {
    const temp = makeTempDir("codexd-recover-")
    temps.push(temp.cleanup)
    writeFileSync(join(temp.path, "script.json"), JSON.stringify({ simulate: true }))
    // What codex has on disk: thread-a's turn-a completed with a message.
    const message = { type: "agentMessage", id: "msg-1", text: "finished while you were away" }
    writeFileSync(
      join(temp.path, "threads.json"),
      JSON.stringify({ "thread-a": [{ id: "turn-a", status: "completed", items: [message], error: null }] }),
    )
    const config = fakeDaemonConfig(temp.path)
    const session = newSessionRecord({ purpose: "worker" }, { approvals: "ask", endpoint: "stdio://" }, now())
    const done = makeRun({
      sessionId: session.sessionId,
      status: "running",
      threadId: "thread-a",
      turnId: "turn-a",
    })
    const lost = makeRun({
      sessionId: session.sessionId,
      status: "running",
      threadId: "thread-b",
      turnId: "turn-b",
    })
    const unstarted = makeRun({ sessionId: session.sessionId, status: "running" })
    const waiting = makeRun({ sessionId: session.sessionId, status: "queued", prompt: "still wanted" })
    await Effect.runPromise(
      Effect.gen(function* () {
        const store = yield* Store
        yield* store.putSessions([{ ...session, threadId: "thread-a" }])
        yield* store.putRuns([done, lost, unstarted, waiting])
        yield* store.updateApprovals((r) => ({
          ...r,
          approvals: [
            {
              approvalId: "approval_left",
              runId: lost.runId,
              sessionId: session.sessionId,
              threadId: "thread-b",
              turnId: "turn-b",
              itemId: "cmd-1",
              kind: "command",
              status: "pending",
              command: "make",
              cwd: null,
              reason: null,
              diff: null,
              availableDecisions: ["accept", "decline"],
              decision: null,
              createdAt: now(),
              deadlineAt: now(),
              settledAt: null,
            },
          ],
        }))
      }).pipe(Effect.provide(foundationLayer(config))),
    )

    await withDaemonServices(config, async (d) => {
      const recovered = await d.finished(done.runId)
      expect(recovered.status).toBe("completed")
      expect((recovered.result as Record<string, unknown>).finalMessage).toBe("finished while you were away")
      const failed = await d.finished(lost.runId)
      expect(failed.status).toBe("failed")
      expect(failed.errorCode).toBe("daemon-restarted")
      // Codex never had its turn: it runs now, on its session's thread, before the queued one.
      const rerun = await d.finished(unstarted.runId)
      expect(rerun.status).toBe("completed")
      expect(rerun.threadId).toBe("thread-a")
      expect(d.events.some((e) => e.type === "run.requeued" && e.detail?.runId === unstarted.runId)).toBe(
        true,
      )
      const resumed = await d.finished(waiting.runId)
      expect(resumed.status).toBe("completed")
      expect(resumed.threadId).toBe("thread-a")
      expect((resumed.startedAt ?? "") >= (rerun.finishedAt ?? "")).toBe(true)
      const approvals = await d.run(d.approvals.list)
      expect(approvals.find((a) => a.approvalId === "approval_left")?.status).toBe("cancelled")
    })
  })
})

const now = () => new Date().toISOString()
