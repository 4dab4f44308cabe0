/** Approvals through the real services over the fake app-server: each mode, the deadline, cancellation. */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { SettingKey } from "../src/config.ts"
import type { RunRecord } from "../src/domain/run.ts"
import { fakeDaemonConfig, withDaemonServices } from "./support/daemonHarness.ts"
import { waitUntil } from "./support/supervisorHarness.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const temps: Array<() => void> = []
afterEach(() => {
  for (const cleanup of temps.splice(0)) cleanup()
})

const fakeDaemon = (flags: Partial<Record<SettingKey, string>> = {}) => {
  const temp = makeTempDir("codexd-approvals-")
  temps.push(temp.cleanup)
  writeFileSync(join(temp.path, "script.json"), JSON.stringify({ simulate: true }))
  return fakeDaemonConfig(temp.path, flags)
}

const finalMessage = (run: RunRecord) => run.result?.finalMessage

describe("Approvals", () => {
  it("auto-accept answers acceptForSession and auto-decline declines, by session or by run", async () => {
    await withDaemonServices(fakeDaemon({ approvals: "auto-decline" }), async (d) => {
      const accepting = await d.run(d.sessions.create({ purpose: "duplex", approvals: "auto-accept" }))
      const accepted = await d.finished(
        (await d.run(d.runs.submit({ prompt: "approve ls -la", sessionId: accepting.sessionId }))).runId,
      )
      expect(accepted.status).toBe("completed")
      expect(finalMessage(accepted)).toBe("ran ls -la")
      expect(accepted.result?.commands).toEqual([
        expect.objectContaining({ command: "ls -la", exitCode: 0, outputTail: "ran\n" }),
      ])
      const answered = d.events.find(
        (e) => e.type === "approval.answered" && e.detail?.runId === accepted.runId,
      )
      expect(answered?.detail).toMatchObject({
        decision: "acceptForSession",
        by: "auto-accept",
        command: "ls -la",
      })

      const declined = await d.finished((await d.run(d.runs.submit({ prompt: "approve rm -rf /" }))).runId)
      expect(finalMessage(declined)).toBe("not allowed to run rm -rf /")
      const overridden = await d.finished(
        (await d.run(d.runs.submit({ prompt: "approve make", approvals: "auto-accept" }))).runId,
      )
      expect(finalMessage(overridden)).toBe("ran make")
      // Answered at once: nothing was left pending.
      expect((await d.run(d.approvals.list)).filter((a) => a.status === "pending")).toEqual([])
    })
  })

  it("ask: a pending record with the request's details, answered through the service", async () => {
    await withDaemonServices(fakeDaemon({ approvals: "ask" }), async (d) => {
      const run = await d.run(d.runs.submit({ prompt: "approve npm test" }))
      const asked = await d.waitForEvent(
        (e) => e.type === "approval.requested" && e.detail?.runId === run.runId,
      )
      const pending = (await d.run(d.approvals.list)).find((a) => a.approvalId === asked.detail?.approvalId)
      expect(pending).toMatchObject({
        status: "pending",
        kind: "command",
        command: "npm test",
        runId: run.runId,
        availableDecisions: ["accept", "acceptForSession", "decline", "cancel"],
        decision: null,
      })
      await d.waitForEvent(
        (e) => e.detail?.runId === run.runId && e.detail?.state === "running.awaitingApproval",
      )
      const answered = await d.run(d.approvals.answer(pending?.approvalId as string, "accept"))
      expect(answered.status).toBe("answered")
      const done = await d.finished(run.runId)
      expect(done.status).toBe("completed")
      expect(finalMessage(done)).toBe("ran npm test")
      const again = await d.run(Effect.flip(d.approvals.answer(answered.approvalId, "decline")))
      expect(again._tag).toBe("ApprovalSettledError")
      const unknown = await d.run(Effect.flip(d.approvals.answer("approval_nope", "decline")))
      expect(unknown._tag).toBe("ApprovalNotFoundError")
    })
  })

  it("ask: declined at the deadline, and the run fails as approval-timed-out", async () => {
    await withDaemonServices(fakeDaemon({ approvals: "ask", approvalTimeoutMs: "300" }), async (d) => {
      const run = await d.finished((await d.run(d.runs.submit({ prompt: "approve deploy" }))).runId)
      expect(run.status).toBe("failed")
      expect(run.errorCode).toBe("approval-timed-out")
      const record = (await d.run(d.approvals.list)).find((a) => a.runId === run.runId)
      expect(record).toMatchObject({ status: "expired", decision: "decline" })
      expect(record?.settledAt).not.toBeNull()
    })
  })

  it("cancels a pending approval when its run is interrupted", async () => {
    await withDaemonServices(fakeDaemon({ approvals: "ask" }), async (d) => {
      const run = await d.run(d.runs.submit({ prompt: "approve sleep 100" }))
      await d.waitForEvent((e) => e.type === "approval.requested" && e.detail?.runId === run.runId)
      await d.run(d.runs.interrupt(run.runId))
      const done = await d.finished(run.runId)
      expect(done.errorCode).toBe("interrupted")
      await waitUntil(() =>
        d.events.some((e) => e.type === "approval.cancelled" && e.detail?.runId === run.runId),
      )
      const record = (await d.run(d.approvals.list)).find((a) => a.runId === run.runId)
      expect(record?.status).toBe("cancelled")
    })
  })
})
