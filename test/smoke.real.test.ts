/**
 * `codexd smoke` as a real process, starting its own daemon over the real pinned codex, offline,
 * against the loopback model mock: all ok; a model codex cannot reach, a model that refuses the key
 * and a turn that outlives the smoke each fail the turn check with what to do about it.
 */
import { readFileSync } from "node:fs"
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { SmokeResult } from "../src/domain/status.ts"
import { lockHolder } from "../src/services/store/StateLock.ts"
import { runCodexd } from "./support/cli.ts"
import { type CodexHome, makeCodexHome } from "./support/codexHome.ts"
import { type MockResponsesApi, startMockResponsesApi } from "./support/mockResponsesApi.ts"
import { configFor, makeTempDir } from "./support/tempConfig.ts"

let mock: MockResponsesApi
const cleanups: Array<() => void> = []

beforeAll(async () => {
  mock = await startMockResponsesApi()
})

afterAll(async () => {
  for (const cleanup of cleanups) cleanup()
  await mock.close()
})

const smoke = async (home: CodexHome, env: Record<string, string> = {}) => {
  const temp = makeTempDir("codexd-smoke-real-")
  cleanups.push(temp.cleanup)
  const run = await runCodexd(["smoke", "--json"], {
    cwd: temp.path,
    env: { ...home.env, CODEXD_API_BASE: "http://127.0.0.1:0", ...env },
  })
  const result = Schema.decodeUnknownSync(SmokeResult)(JSON.parse(run.stdout))
  const verdicts = Object.fromEntries(result.checks.map((c) => [c.name, c.status]))
  const detail = (name: string) => result.checks.find((c) => c.name === name)?.detail ?? ""
  return { run, result, verdicts, detail, config: configFor(temp.path) }
}

const homeFor = (baseUrl: string) => {
  const home = makeCodexHome(baseUrl)
  cleanups.push(home.cleanup)
  return home
}

const allChecks = [
  "config",
  "state-dir",
  "child",
  "initialize",
  "session",
  "turn",
  "event-stream",
  "state-files",
]

describe("codexd smoke against the real codex", () => {
  it("passes every check with a reachable model, and leaves no daemon behind", async () => {
    const before = mock.requests.length
    const { run, result, verdicts, detail, config } = await smoke(homeFor(`${mock.baseUrl}/v1`))
    expect(result.checks.map((c) => c.name)).toEqual(allChecks)
    expect(verdicts).toEqual(Object.fromEntries(allChecks.map((name) => [name, "ok"])))
    expect(run.exitCode).toBe(0)
    expect(detail("initialize")).toMatch(/^answered by codexd\/0\.169\.0/)
    expect(detail("turn")).toContain('"ok"')
    // One model request, carrying the smoke's prompt.
    expect(mock.requests.length).toBe(before + 1)
    expect(JSON.stringify(mock.requests.at(-1))).toContain("connectivity check")
    // The snapshot was taken while the daemon ran; the smoke session is closed again.
    expect(result.snapshot?.daemon.child.status).toBe("running")
    const smokeSession = result.snapshot?.sessionRegistry.sessions.find((s) => s.purpose === "smoke")
    expect(smokeSession?.status).toBe("closed")
    expect(result.snapshot?.runRegistry.runs.map((r) => r.status)).toEqual(["completed"])
    expect(lockHolder(config.paths.lockPath)).toBeNull()
    const state = JSON.parse(readFileSync(config.paths.daemonStatePath, "utf8"))
    expect(state.started).toBe(false)
  }, 60_000)

  it("passes every check in exec mode, where codex runs as one codex exec per turn", async () => {
    const before = mock.requests.length
    const { run, result, verdicts, detail } = await smoke(homeFor(`${mock.baseUrl}/v1`), {
      CODEXD_SERVER_MODE: "exec",
    })
    expect(verdicts).toEqual(Object.fromEntries(allChecks.map((name) => [name, "ok"])))
    expect(run.exitCode).toBe(0)
    expect(detail("child")).toMatch(/^exec mode: no long-lived child/)
    expect(detail("initialize")).toMatch(/^codex exec can run: codex-cli 0\.169\.0/)
    expect(detail("session")).toContain("its thread starts with its first run")
    expect(mock.requests.length).toBe(before + 1)
    expect(result.snapshot?.daemon.child).toMatchObject({ mode: "exec", status: "idle", pid: null })
    const runs = result.snapshot?.runRegistry.runs ?? []
    expect(runs.map((r) => [r.status, r.adapter])).toEqual([["completed", "exec"]])
  }, 60_000)

  it("fails the turn with how to configure codex when the model cannot be reached", async () => {
    // Port 9 (discard) on loopback: nothing listens there.
    const { run, verdicts, detail } = await smoke(homeFor("http://127.0.0.1:9/v1"))
    expect(run.exitCode).toBe(1)
    expect(verdicts.turn).toBe("failed")
    expect(detail("turn")).toMatch(/could not reach the model: .*base_url in \$CODEX_HOME\/config\.toml/)
    // Everything that does not need the model still passed, the event stream included.
    for (const name of allChecks.filter((n) => n !== "turn")) expect(verdicts[name]).toBe("ok")
    expect(run.stdout.trim().startsWith("{")).toBe(true)
  }, 60_000)

  it("says codex is not logged in when it has no account, no provider key and no OPENAI_API_KEY", async () => {
    const bare = makeTempDir("codexd-codex-home-bare-")
    cleanups.push(bare.cleanup)
    const { run, verdicts, detail } = await smoke(
      { path: bare.path, env: { CODEX_HOME: bare.path }, cleanup: () => undefined },
      { OPENAI_API_KEY: "", CODEXD_SMOKE_LIFETIME_MS: "10000" },
    )
    expect(run.exitCode).toBe(1)
    expect(verdicts.initialize).toBe("failed")
    expect(detail("initialize")).toMatch(/but codex is not logged in: run `npx codex login`/)
  }, 60_000)

  it("fails the turn with how to log in when the model refuses the credentials", async () => {
    mock.enqueue({ kind: "httpError", status: 401, body: '{"error":{"message":"invalid api key"}}' })
    const { run, verdicts, detail } = await smoke(homeFor(`${mock.baseUrl}/v1`))
    expect(run.exitCode).toBe(1)
    expect(verdicts.turn).toBe("failed")
    expect(detail("turn")).toMatch(/401.*run `codex login`/)
  }, 60_000)

  it("gives up on a turn that outlives smokeLifetimeMs, interrupts it and stops its daemon", async () => {
    mock.enqueue({ kind: "hang", firstDelta: "o" })
    const { run, verdicts, detail, config, result } = await smoke(homeFor(`${mock.baseUrl}/v1`), {
      CODEXD_SMOKE_LIFETIME_MS: "6000",
    })
    expect(run.exitCode).toBe(1)
    expect(verdicts.turn).toBe("failed")
    expect(detail("turn")).toMatch(/still running when the smoke's lifetime ended/)
    // The stream is judged on what it could carry: the session and the run, not an end that never came.
    expect(verdicts["event-stream"]).toBe("ok")
    expect(lockHolder(config.paths.lockPath)).toBeNull()
    // The interrupt reached the run before the daemon stopped: nothing is left running.
    const runs = JSON.parse(readFileSync(config.paths.runRegistryPath, "utf8")).runs
    expect(runs.map((r: { status: string }) => r.status)).toEqual(["failed"])
    expect(result.checks).toHaveLength(allChecks.length)
  }, 60_000)
})
