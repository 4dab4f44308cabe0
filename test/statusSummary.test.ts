import { describe, expect, it } from "vitest"
import { renderSummary, uptimeText } from "../src/cli/statusSummary.ts"

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

describe("renderSummary", () => {
  it("says until when queued runs are held for the usage limit", () => {
    const figures = { pid: 1, status: "online", startedAt: null, restarts: null, rssMb: null }
    const summary = {
      running: true,
      apiBase: "http://127.0.0.1:4319",
      stateDir: "/state",
      nodeId: "node",
      daemon: figures,
      child: { ...figures, status: "running", machineState: "alive.running", userAgent: null },
      runs: { queued: 2, running: 0, completed: 0, failed: 1 },
      sessions: { total: 1, active: 1 },
      tokens: 0,
      lastError: null,
    }
    const held = renderSummary({ ...summary, heldUntil: "2026-01-02T04:00:00.000Z" }, 0, process.stdout)
    expect(held).toContain("queued runs wait for the usage limit to reset at 2026-01-02T04:00:00.000Z")
    expect(renderSummary({ ...summary, heldUntil: null }, 0, process.stdout)).not.toContain("usage limit")
  })
})
