import { describe, expect, it } from "vitest"
import { resolveIdPrefix } from "../src/cli/idPrefix.ts"

describe("resolveIdPrefix", () => {
  const known = ["run_abc123", "run_abd456", "run_xyz789"]
  it("takes a whole id, or a prefix that names exactly one", () => {
    expect(resolveIdPrefix("run_abc123", known, "run")).toEqual({ id: "run_abc123" })
    expect(resolveIdPrefix("run_x", known, "run")).toEqual({ id: "run_xyz789" })
    expect(resolveIdPrefix("run_ab", known, "run")).toEqual({
      problem: "run_ab names 2 runs (run_abc123, run_abd456): give more of it",
    })
    expect(resolveIdPrefix("run_q", known, "run")).toEqual({ problem: "no run run_q" })
  })
})
