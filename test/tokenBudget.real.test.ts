/**
 * Token budgets with the real codex against the loopback model mock: each model response the mock
 * sends reports 19 tokens used, so a budget of 30 is passed by a turn's second request.
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

describe("token budgets with the real codex", () => {
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
})
