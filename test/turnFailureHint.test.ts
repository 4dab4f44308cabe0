import { describe, expect, it } from "vitest"
import { turnFailureHint } from "../src/cli/smoke/turnFailureHint.ts"

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
})
