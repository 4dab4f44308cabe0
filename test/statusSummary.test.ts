import { describe, expect, it } from "vitest"
import { uptimeText } from "../src/cli/statusSummary.ts"

describe("uptimeText", () => {
  const now = Date.parse("2026-01-02T03:04:05Z")
  it("shows the two largest units, as pm2 does", () => {
    expect(uptimeText("2026-01-02T03:04:05Z", now)).toBe("0s")
    expect(uptimeText("2026-01-02T03:03:53Z", now)).toBe("12s")
    expect(uptimeText("2026-01-02T03:00:53Z", now)).toBe("3m 12s")
    expect(uptimeText("2026-01-02T01:00:00Z", now)).toBe("2h 4m")
    expect(uptimeText("2025-12-29T02:00:00Z", now)).toBe("4d 1h")
    expect(uptimeText(null, now)).toBe("-")
  })
})
