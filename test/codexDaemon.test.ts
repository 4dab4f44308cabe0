/**
 * The pieces of attaching to the shared codex daemon that need no process: reading `daemon start`'s
 * answer, the WebSocket URL of a Unix socket, and the crash-loop budget of starts on Effect's TestClock.
 */
import { chmodSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import { TestClock } from "effect/testing"
import { resolveConfig } from "../src/config.ts"
import { webSocketUrlOf } from "../src/services/supervisor/appServerConnectionActor.ts"
import { makeDaemonStartBudget, parseDaemonStartOutput } from "../src/services/supervisor/codexDaemon.ts"
import {
  childStateOf,
  fastSupervisorOptions,
  waitUntil,
  withSupervisor,
} from "./support/supervisorHarness.ts"
import { makeTempDir, testConfigInput } from "./support/tempConfig.ts"

describe("codex daemon attach", () => {
  it("reads the JSON answer of daemon start, and nothing else", () => {
    const line =
      '{"status":"started","backend":"pid","pid":32241,"socketPath":"/h/app-server-control/app-server-control.sock","cliVersion":"0.169.0","appServerVersion":"0.169.0"}'
    expect(parseDaemonStartOutput(`${line}\n`)).toEqual({
      status: "started",
      pid: 32241,
      socketPath: "/h/app-server-control/app-server-control.sock",
      appServerVersion: "0.169.0",
    })
    expect(parseDaemonStartOutput("Installing daemon…\nnot json\n")).toBeNull()
    expect(parseDaemonStartOutput('{"status":"started"}')).toBeNull()
  })

  it("speaks WebSocket over a Unix socket in the ws client's form", () => {
    const target = { codexHome: "/h", socketPath: "/h/app-server-control/app-server-control.sock" }
    expect(webSocketUrlOf("codex-daemon", target)).toBe(
      "ws+unix:///h/app-server-control/app-server-control.sock:/",
    )
    expect(webSocketUrlOf("unix:///run/x.sock", null)).toBe("ws+unix:///run/x.sock:/")
    expect(webSocketUrlOf("ws://127.0.0.1:9", null)).toBe("ws://127.0.0.1:9")
  })

  it.effect("allows maxStarts starts within the window, then none until it has passed", () =>
    Effect.gen(function* () {
      const budget = makeDaemonStartBudget(2, 60_000)
      expect(yield* budget.take).toBeNull()
      yield* TestClock.adjust(1_000)
      expect(yield* budget.take).toBeNull()
      const refused = yield* budget.take
      expect(refused).toContain("gave up starting the codex daemon after 2 starts within 60000 ms")
      // The first start leaves the window: one more is allowed, then the budget is full again.
      yield* TestClock.adjust(59_500)
      expect(yield* budget.take).toBeNull()
      expect(yield* budget.take).not.toBeNull()
    }),
  )

  it("stops starting a daemon that will not start after the budget, and keeps attaching", async () => {
    const temp = makeTempDir("codexd-daemon-budget-")
    try {
      // A codex whose `daemon start` always fails, and counts how often it was asked.
      const codex = join(temp.path, "codex")
      const asked = join(temp.path, "asked")
      writeFileSync(
        codex,
        `#!/bin/sh\necho "$*" >> "${asked}"\necho "cannot start: no package" >&2\nexit 3\n`,
      )
      chmodSync(codex, 0o755)
      const resolved = resolveConfig(
        testConfigInput({
          cwd: temp.path,
          env: { CODEX_HOME: join(temp.path, "home") },
          flags: { childStrategy: "external", endpoint: "codex-daemon", childCommand: codex },
        }),
      )
      if (Result.isFailure(resolved)) throw resolved.failure
      const starts = () => readFileSync(asked, "utf8").trim().split("\n")
      await withSupervisor(resolved.success, (supervisor) =>
        Effect.flatMap(supervisor.start, () =>
          Effect.promise(async () => {
            await waitUntil(
              () => (childStateOf(supervisor).lastError ?? "").includes("gave up starting"),
              20_000,
              "the budget spent",
            )
            expect(starts()).toEqual([
              "app-server daemon start",
              "app-server daemon start",
              "app-server daemon start",
            ])
            // Attempts go on (a daemon started by someone else is attached to), without starting it.
            const attempts = childStateOf(supervisor).restartCount
            await waitUntil(
              () => childStateOf(supervisor).restartCount >= attempts + 3,
              20_000,
              "more attempts",
            )
            expect(starts()).toHaveLength(fastSupervisorOptions.maxRestarts ?? 0)
            expect(childStateOf(supervisor)).toMatchObject({ status: "external", pid: null })
          }),
        ),
      )
    } finally {
      temp.cleanup()
    }
  })
})
