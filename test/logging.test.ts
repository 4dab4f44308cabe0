import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { fileLoggingLayer, openPinoFile } from "../src/services/logging/Logging.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const dir = makeTempDir("codexd-logging-")
afterAll(dir.cleanup)

describe("daemon log", () => {
  it("receives Effect's log entries as pino JSON lines, secrets redacted", async () => {
    const path = join(dir.path, "logs", "daemon.log")
    const logger = openPinoFile(path, { sync: true })
    await Effect.runPromise(
      Effect.gen(function* () {
        yield* Effect.logInfo("child started with OPENAI_API_KEY sk-live-0123456789abcdefXYZ")
        yield* Effect.logWarning("request", { headers: { Authorization: "Bearer s3cr3t-value" } })
        yield* Effect.logError("boom").pipe(Effect.annotateLogs({ at: "test" }))
      }).pipe(Effect.provide(fileLoggingLayer(logger))),
    )
    const lines = readFileSync(path, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.map((l) => l.level)).toEqual(["info", "warn", "error"])
    expect(lines[0]?.msg).toBe("child started with OPENAI_API_KEY [redacted]")
    expect(JSON.stringify(lines)).not.toContain("s3cr3t-value")
    expect(lines[0]?.pid).toBe(process.pid)
  })
})
