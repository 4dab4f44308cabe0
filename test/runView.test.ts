import { describe, expect, it } from "vitest"
import { diffStat, liveLine } from "../src/cli/runView.ts"

describe("run view", () => {
  it("counts a unified diff's files and lines", () => {
    const diff = [
      "--- a/x.ts",
      "+++ b/x.ts",
      "@@ -1,2 +1,3 @@",
      " same",
      "-old",
      "+new",
      "+added",
      "--- a/y.ts",
      "+++ b/y.ts",
      "-gone",
    ].join("\n")
    expect(diffStat(diff)).toEqual({ files: 2, added: 2, removed: 2 })
  })

  it("says what a live event means, one line, and nothing for the rest", () => {
    const event = (type: string, detail: Record<string, unknown>, message = "") => ({
      seq: 1,
      createdAt: "2026-01-01T00:00:00.000Z",
      level: "info" as const,
      type,
      message,
      detail,
    })
    expect(liveLine(event("run.command.started", { command: "ls -la" }))).toBe("$ ls -la")
    expect(liveLine(event("run.command.completed", { exitCode: 2 }))).toBe("  exit 2")
    expect(liveLine(event("run.error", { willRetry: true }, "stream disconnected"))).toBe(
      "codex retries: stream disconnected",
    )
    expect(
      liveLine(
        event(
          "approval.requested",
          { approvalId: "ap_1", availableDecisions: ["accept", "decline"] },
          "asked",
        ),
      ),
    ).toBe("approval asked: asked\n  answer with: codexd approve ap_1 --decision accept|decline")
    expect(liveLine(event("run.message.delta", {}))).toBeNull()
  })
})
