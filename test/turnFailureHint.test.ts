import { describe, expect, it } from "vitest"
import { retryNote, turnFailureHint } from "../src/cli/smoke/turnFailureHint.ts"
import type { RecentEvent } from "../src/domain/event.ts"

describe("turnFailureHint", () => {
  it("says how to log in when the model refuses the credentials", () => {
    expect(turnFailureHint("unauthorized")).toMatch(/codex login/)
    expect(turnFailureHint({ httpConnectionFailed: { httpStatusCode: 401 } })).toMatch(/codex login/)
    expect(turnFailureHint({ responseStreamConnectionFailed: { httpStatusCode: 403 } })).toMatch(
      /codex login/,
    )
  })

  it("says how to configure the provider when the model cannot be reached", () => {
    for (const variant of [
      "httpConnectionFailed",
      "responseStreamDisconnected",
      "responseTooManyFailedAttempts",
    ])
      expect(turnFailureHint({ [variant]: { httpStatusCode: null } })).toMatch(/could not reach the model/)
  })

  it("tells a server outage from a client mistake", () => {
    expect(turnFailureHint({ httpConnectionFailed: { httpStatusCode: 503 } })).toMatch(
      /HTTP 503: it may be down/,
    )
    expect(turnFailureHint({ httpConnectionFailed: { httpStatusCode: 400 } })).toBeNull()
  })

  it("names the model and quota cases, and adds nothing for the rest", () => {
    expect(turnFailureHint("modelNotFound")).toMatch(/set `model`/)
    expect(turnFailureHint("usageLimitExceeded")).toMatch(/quota/)
    expect(turnFailureHint("contextWindowExceeded")).toBeNull()
    expect(turnFailureHint(undefined)).toBeNull()
    expect(turnFailureHint({ somethingNew: {} })).toBeNull()
  })

  it("tells what codex kept retrying, from the run's last error event", () => {
    // As the real codex reports a model it cannot reach over its websocket transport.
    const event = (seq: number, runId: string, message: string): RecentEvent => ({
      seq,
      createdAt: "2026-01-01T00:00:00.000Z",
      level: "warn",
      type: "run.error",
      message,
      detail: {
        runId,
        error: { message, codexErrorInfo: { responseStreamDisconnected: { httpStatusCode: null } } },
        willRetry: true,
      },
    })
    const events = [
      event(1, "run_a", "Reconnecting... 4/5"),
      event(2, "run_a", "Reconnecting... 5/5"),
      event(3, "run_b", "other"),
    ]
    expect(retryNote(events, "run_a")).toMatch(
      /^; codex kept retrying: Reconnecting\.\.\. 5\/5; codex could not reach the model/,
    )
    expect(retryNote(events, "run_c")).toBe("")
  })
})
