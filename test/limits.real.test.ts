/**
 * Limits with the real codex against the loopback model mock: the account's usage limit (an HTTP 429
 * in codex's usage-limit shape, with its rate-limit headers) holds the queue until the reset, and
 * token budgets (each model response the mock sends reports 19 tokens used, so a budget of 30 is
 * passed by a turn's second request).
 */
import { beforeAll, describe, expect, it } from "vitest"
import type { RunRecord } from "../src/domain/run.ts"
import { withDaemonServices } from "./support/daemonHarness.ts"
import type { MockResponsesApi } from "./support/mockResponsesApi.ts"
import { useModelInEnv } from "./support/modelInEnv.ts"

const model = useModelInEnv()
let mock: MockResponsesApi
beforeAll(() => {
  mock = model.mock()
})

const result = (run: RunRecord) => run.result as Record<string, unknown>

describe("limits with the real codex", () => {
  it("interrupts a run that passes its budget and fails it budget-exceeded; one within it completes", async () => {
    await withDaemonServices(model.realConfig("codexd-budget-real-"), async (d) => {
      const session = await d.run(
        d.sessions.create({
          purpose: "duplex",
          approvalPolicy: "never",
          sandbox: "danger-full-access",
          maxTokens: 30,
        }),
      )
      // Within budget: one response, 19 tokens.
      mock.enqueue({ kind: "text", deltas: ["small"] })
      const small = await d.finished(
        (await d.run(d.runs.submit({ prompt: "a small task", sessionId: session.sessionId }))).runId,
      )
      expect(small.status).toBe("completed")

      // The session's budget: the turn's second response takes it to 38 tokens.
      mock.enqueue({ kind: "exec", cmd: "echo step-one" }, { kind: "exec", cmd: "echo step-two" })
      const big = await d.finished(
        (await d.run(d.runs.submit({ prompt: "a big task", sessionId: session.sessionId }))).runId,
      )
      expect(big).toMatchObject({ status: "failed", errorCode: "budget-exceeded" })
      expect(big.error).toContain("more than its budget of 30")
      // Interrupted by codexd as soon as codex reported the usage.
      expect(
        d.events.some((e) => e.detail?.runId === big.runId && e.detail?.state === "running.interrupting"),
      ).toBe(true)

      // A run's own budget overrides its session's.
      mock.enqueue({ kind: "exec", cmd: "echo roomy" }, { kind: "text", deltas: ["done within 100"] })
      const roomy = await d.finished(
        (
          await d.run(
            d.runs.submit({
              prompt: "a roomier task",
              sessionId: session.sessionId,
              options: { maxTokens: 100 },
            }),
          )
        ).runId,
      )
      expect(roomy.status).toBe("completed")
      expect(result(roomy).finalMessage).toBe("done within 100")
    })
  }, 120_000)

  it("holds the queued runs after a usage-limit failure until codex's reset time, then runs them", async () => {
    await withDaemonServices(model.realConfig("codexd-usage-limit-real-"), async (d) => {
      const session = await d.run(d.sessions.create({ purpose: "duplex", approvalPolicy: "never" }))
      const resetsAt = Math.ceil(Date.now() / 1000) + 3
      mock.enqueue(
        {
          kind: "httpError",
          status: 429,
          headers: {
            "x-codex-primary-used-percent": "100",
            "x-codex-primary-window-minutes": "300",
            "x-codex-primary-reset-at": String(resetsAt),
          },
          body: JSON.stringify({
            error: {
              type: "usage_limit_reached",
              message: "The usage limit has been reached",
              plan_type: "plus",
              resets_at: resetsAt,
              resets_in_seconds: 3,
            },
          }),
        },
        { kind: "text", deltas: ["after ", "the reset"] },
        { kind: "text", deltas: ["and again"] },
      )
      const submit = (prompt: string) => d.run(d.runs.submit({ prompt, sessionId: session.sessionId }))
      const limited = await submit("hits the limit")
      const next = await submit("waits for the reset")
      const last = await submit("waits too")

      const failed = await d.finished(limited.runId)
      expect(failed).toMatchObject({ status: "failed", errorCode: "turn-failed" })
      expect(result(failed).codexErrorInfo).toBe("usageLimitExceeded")
      const until = new Date(resetsAt * 1000).toISOString()
      const held = await d.waitForEvent((e) => e.type === "runs.held" && e.detail?.until === until)
      expect(held.detail?.runId).toBe(limited.runId)
      // Held, not failed: still queued, and the daemon state says until when.
      expect((await d.run(d.runs.get(next.runId))).status).toBe("queued")
      expect((await d.run(d.store.daemonState))?.usageHold).toMatchObject({ until, runId: limited.runId })

      const resumed = await d.finished(next.runId)
      expect(resumed.status).toBe("completed")
      expect(result(resumed).finalMessage).toBe("after the reset")
      expect(Date.parse(resumed.startedAt ?? "")).toBeGreaterThanOrEqual(resetsAt * 1000)
      expect((await d.finished(last.runId)).status).toBe("completed")
      expect(d.events.some((e) => e.type === "runs.hold.released")).toBe(true)
      expect((await d.run(d.store.daemonState))?.usageHold).toBeNull()
    })
  }, 120_000)
})
