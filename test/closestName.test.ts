import { describe, expect, it } from "vitest"
import { closestName } from "../src/cli/closestName.ts"

describe("closestName", () => {
  const names = ["start", "status", "stop", "sessions", "runs", "run", "events", "approve", "approvals"]
  it("finds the command a typo meant, and nothing for a word that is not near one", () => {
    expect(closestName("stauts", names)).toBe("status")
    expect(closestName("sesions", names)).toBe("sessions")
    expect(closestName("evnets", names)).toBe("events")
    expect(closestName("STOP", names)).toBe("stop")
    expect(closestName("frobnicate", names)).toBeNull()
    expect(closestName("xyz", names)).toBeNull()
  })
})
