/**
 * Sessions and runs through the daemon's services supervising the real pinned codex, offline,
 * against the loopback model mock.
 */
import { beforeAll, describe, expect, it } from "vitest"
import type { SettingKey } from "../src/config.ts"
import type { RunRecord } from "../src/domain/run.ts"
import { withDaemonServices } from "./support/daemonHarness.ts"
import type { MockResponsesApi } from "./support/mockResponsesApi.ts"
import { useModelInEnv } from "./support/modelInEnv.ts"

const model = useModelInEnv()
let mock: MockResponsesApi
beforeAll(() => {
  mock = model.mock()
})

const realDaemon = (flags: Partial<Record<SettingKey, string>> = {}) =>
  model.realConfig("codexd-runs-real-", { ...flags })

const result = (run: RunRecord) => run.result as Record<string, unknown>
const activeState = "running.active"

describe("runs with the real codex", () => {
  it("runs 3 sessions × 3 runs concurrently, each session's runs in order on its own thread", async () => {
    await withDaemonServices(realDaemon(), async (d) => {
      mock.enqueue(...Array.from({ length: 9 }, () => ({ kind: "text" as const, deltas: ["all ", "done"] })))
      const sessions = await Promise.all(
        [1, 2, 3].map(() => d.run(d.sessions.create({ purpose: "duplex", approvalPolicy: "never" }))),
      )
      const submitted: Array<RunRecord> = []
      for (let i = 0; i < 3; i++)
        for (const s of sessions)
          submitted.push(await d.run(d.runs.submit({ prompt: `task ${i}`, sessionId: s.sessionId })))
      const runs = await Promise.all(submitted.map((r) => d.finished(r.runId)))
      for (const run of runs) {
        expect(run.status).toBe("completed")
        expect(result(run).finalMessage).toBe("all done")
        expect(result(run).tokenUsage).not.toBeNull()
      }
      for (const s of sessions) {
        const own = runs.filter((r) => r.sessionId === s.sessionId)
        expect(new Set(own.map((r) => r.threadId))).toEqual(new Set([s.threadId]))
        const byStart = [...own].sort((a, b) => (a.startedAt ?? "").localeCompare(b.startedAt ?? ""))
        expect(byStart.map((r) => r.prompt)).toEqual(["task 0", "task 1", "task 2"])
      }
    })
  })

  it("interrupts a running turn, and steers another", async () => {
    await withDaemonServices(realDaemon(), async (d) => {
      mock.enqueue({ kind: "hang", firstDelta: "thinking" })
      const stuck = await d.run(d.runs.submit({ prompt: "take forever" }))
      await d.waitForEvent((e) => e.type === "run.message.delta" && e.detail?.runId === stuck.runId)
      await d.run(d.runs.interrupt(stuck.runId))
      const interrupted = await d.finished(stuck.runId)
      expect(interrupted.errorCode).toBe("interrupted")
      expect(result(interrupted).turnStatus).toBe("interrupted")

      mock.enqueue({ kind: "hang", firstDelta: "going" }, { kind: "text", deltas: ["changed course"] })
      const steered = await d.run(d.runs.submit({ prompt: "go left" }))
      await d.waitForEvent((e) => e.type === "run.message.delta" && e.detail?.runId === steered.runId)
      await d.run(d.runs.steer(steered.runId, "go right instead"))
      const done = await d.finished(steered.runId)
      expect(done.status).toBe("completed")
      expect(result(done).finalMessage).toBe("changed course")
      expect(JSON.stringify(mock.requests.at(-1))).toContain("go right instead")
    })
  })

  it("asks for an approval and runs the command once accepted", async () => {
    await withDaemonServices(realDaemon({ approvals: "ask" }), async (d) => {
      mock.enqueue({ kind: "exec", cmd: "echo approved-run" }, { kind: "text", deltas: ["ran it"] })
      const session = await d.run(
        d.sessions.create({ purpose: "duplex", approvalPolicy: "untrusted", sandbox: "danger-full-access" }),
      )
      const run = await d.run(d.runs.submit({ prompt: "run the command", sessionId: session.sessionId }))
      const asked = await d.waitForEvent(
        (e) => e.type === "approval.requested" && e.detail?.runId === run.runId,
      )
      expect(String(asked.detail?.command)).toContain("echo approved-run")
      await d.run(d.approvals.answer(String(asked.detail?.approvalId), "accept"))
      const done = await d.finished(run.runId)
      expect(done.status).toBe("completed")
      expect(result(done).finalMessage).toBe("ran it")
      const commands = result(done).commands as Array<{
        command: string
        exitCode: number
        outputTail: string
      }>
      expect(
        commands.some(
          (c) => c.command.includes("echo approved-run") && c.outputTail.includes("approved-run"),
        ),
      ).toBe(true)
    })
  })

  it("declines an approval nobody answers at its deadline and fails the run", async () => {
    await withDaemonServices(realDaemon({ approvals: "ask", approvalTimeoutMs: "1500" }), async (d) => {
      mock.enqueue({ kind: "exec", cmd: "echo never-approved" }, { kind: "hang", firstDelta: "ok" })
      const session = await d.run(
        d.sessions.create({ purpose: "duplex", approvalPolicy: "untrusted", sandbox: "danger-full-access" }),
      )
      const run = await d.run(d.runs.submit({ prompt: "run the command", sessionId: session.sessionId }))
      const done = await d.finished(run.runId)
      expect(done.status).toBe("failed")
      expect(done.errorCode).toBe("approval-timed-out")
      const approval = (await d.run(d.approvals.list)).find((a) => a.runId === run.runId)
      expect(approval).toMatchObject({ status: "expired", decision: "decline" })
      expect(d.events.some((e) => e.detail?.runId === run.runId && e.detail?.state === activeState)).toBe(
        true,
      )
    })
  })
})
