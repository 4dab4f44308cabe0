import { Result, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { generalHelp } from "../src/cli/help.ts"
import {
  type ConfigError,
  defaultText,
  resolveConfig,
  type Setting,
  type SettingKey,
  settingKeys,
  settings,
} from "../src/config.ts"
import { configFor, testConfigInput } from "./support/tempConfig.ts"

const resolveWith = (env: Record<string, string>, flags: Partial<Record<SettingKey, string>> = {}) =>
  resolveConfig(testConfigInput({ env, flags }))

const failureOf = (result: ReturnType<typeof resolveWith>): ConfigError => {
  if (Result.isSuccess(result)) throw new Error("expected the config to be refused")
  return result.failure
}

describe("resolveConfig", () => {
  it("has the documented defaults", () => {
    const config = Result.getOrThrow(resolveWith({}))
    expect(config.nodeId).toBe("test-host")
    expect(config.version).toBe("9.9.9")
    expect(config.eventCacheSize).toBe(1000)
    expect(config.smokeLifetimeMs).toBe(60000)
    expect(config.runRetention).toBe(1000)
    expect(config.service).toEqual({ localApiBase: "http://127.0.0.1:4319", eventStreamPath: "/v1/events" })
    expect(config.server).toEqual({
      mode: "app-server",
      endpoint: "stdio://",
      childStrategy: "spawn",
      childCommand: "/opt/codex/bin/codex",
      childArgs: ["app-server"],
      childCwd: "/srv/project",
      serverTokenFile: null,
    })
    expect(config.paths.repoRoot).toBe("/srv/project")
    expect(config.paths.stateDir).toBe("/srv/project/.codexd/state")
    expect(config.paths.logsDir).toBe("/srv/project/.codexd/logs")
    expect(config.paths.runRegistryPath).toBe("/srv/project/.codexd/state/runs.json")
  })

  it("finds the project from a subdirectory as git does: .codexd/ first, then package.json or .git", () => {
    const tree = (paths: ReadonlyArray<string>) => (path: string) => paths.includes(path)
    const rootOf = (cwd: string, paths: ReadonlyArray<string>) =>
      Result.getOrThrow(resolveConfig(testConfigInput({ cwd, exists: tree(paths) }))).paths.repoRoot
    // A daemon's state at the root wins over a nearer package.json (a workspace package).
    expect(
      rootOf("/srv/project/packages/a/src", ["/srv/project/.codexd", "/srv/project/packages/a/package.json"]),
    ).toBe("/srv/project")
    expect(rootOf("/srv/project/src/cli", ["/srv/project/package.json", "/srv/.git"])).toBe("/srv/project")
    expect(rootOf("/srv/project/src", ["/srv/.git"])).toBe("/srv")
    expect(rootOf("/tmp/loose", [])).toBe("/tmp/loose")
    // Said explicitly, the root is what was said.
    const given = resolveConfig(
      testConfigInput({
        cwd: "/srv/project/src",
        exists: tree(["/srv/project/.codexd"]),
        env: { CODEXD_REPO_ROOT: "." },
      }),
    )
    expect(Result.getOrThrow(given).paths.repoRoot).toBe("/srv/project/src")
  })

  it("reads codexd.json at the project root below flags and env, and names the file in its errors", () => {
    const withFile = (text: string, env: Record<string, string> = {}, flags = {}) =>
      resolveConfig(
        testConfigInput({
          env,
          flags,
          readFile: (path) => (path === "/srv/project/codexd.json" ? text : null),
        }),
      )
    const file =
      '{"maxConcurrentRuns": 7, "approvals": "auto-accept", "childArgs": ["app-server", "-c", "x=1"]}'
    const fromFile = Result.getOrThrow(withFile(file))
    expect(fromFile.runs.maxConcurrentRuns).toBe(7)
    expect(fromFile.runs.approvals).toBe("auto-accept")
    expect(fromFile.server.childArgs).toEqual(["app-server", "-c", "x=1"])
    expect(
      Result.getOrThrow(withFile(file, { CODEXD_MAX_CONCURRENT_RUNS: "3" })).runs.maxConcurrentRuns,
    ).toBe(3)
    expect(
      Result.getOrThrow(withFile(file, { CODEXD_MAX_CONCURRENT_RUNS: "3" }, { maxConcurrentRuns: "2" })).runs
        .maxConcurrentRuns,
    ).toBe(2)
    const message = (text: string) => {
      const result = withFile(text)
      return Result.isFailure(result) ? result.failure.message : "resolved"
    }
    expect(message('{"maxConcurrentRuns": "many"}')).toBe(
      'invalid maxConcurrentRuns in /srv/project/codexd.json = "many": expected a positive integer',
    )
    expect(message('{"maxConcurentRuns": 2}')).toMatch(
      /^invalid maxConcurentRuns in \/srv\/project\/codexd\.json = "2": expected one of the settings /,
    )
    expect(message('{"repoRoot": "/elsewhere"}')).toMatch(/^invalid repoRoot in /)
    expect(message("{not json")).toMatch(
      /^invalid JSON in \/srv\/project\/codexd\.json = "\{not json": expected a JSON object of settings/,
    )
    expect(message("[1]")).toMatch(/expected a JSON object of settings$/)
    // The same value from the env is still the env's.
    const fromEnv = resolveConfig(testConfigInput({ env: { CODEXD_MAX_CONCURRENT_RUNS: "many" } }))
    expect(Result.isFailure(fromEnv) && fromEnv.failure.message).toMatch(
      /^invalid CODEXD_MAX_CONCURRENT_RUNS \(--max-concurrent-runs\)/,
    )
  })

  it("takes a flag over the env var, and the env var over the default", () => {
    expect(Result.getOrThrow(resolveWith({ CODEXD_EVENT_CACHE_SIZE: "50" })).eventCacheSize).toBe(50)
    expect(
      Result.getOrThrow(resolveWith({ CODEXD_EVENT_CACHE_SIZE: "50" }, { eventCacheSize: "7" }))
        .eventCacheSize,
    ).toBe(7)
    const both = Result.getOrThrow(resolveWith({ CODEXD_NODE_ID: "from-env" }, { nodeId: "from-flag" }))
    expect(both.nodeId).toBe("from-flag")
  })

  it("derives every runtime path from the roots, relative ones against repoRoot", () => {
    const config = Result.getOrThrow(
      resolveWith({
        CODEXD_REPO_ROOT: "/work/repo",
        CODEXD_STATE_DIR: "state-root",
        CODEXD_LOGS_DIR: "/var/log/x",
      }),
    )
    expect(config.paths.stateRootDir).toBe("/work/repo/state-root")
    expect(config.paths.identityPath).toBe("/work/repo/state-root/state/identity.json")
    expect(config.paths.structuredEventLogPath).toBe("/var/log/x/logs/events.jsonl")
    expect(config.server.childCwd).toBe("/work/repo")
  })

  it("accepts the other server mode and strategy", () => {
    const exec = Result.getOrThrow(resolveWith({ CODEXD_SERVER_MODE: "exec" }))
    expect(exec.server.mode).toBe("exec")
    const external = Result.getOrThrow(
      resolveWith({ CODEXD_CHILD_STRATEGY: "external", CODEXD_SERVER_ENDPOINT: "ws://127.0.0.1:9000" }),
    )
    expect(external.server).toMatchObject({ childStrategy: "external", endpoint: "ws://127.0.0.1:9000" })
    expect(Result.getOrThrow(resolveWith({ CODEXD_API_BASE: "http://[::1]:0" })).service.localApiBase).toBe(
      "http://[::1]:0",
    )
    expect(
      Result.getOrThrow(resolveWith({ CODEXD_CHILD_ARGS: '["app-server","--x"]' })).server.childArgs,
    ).toEqual(["app-server", "--x"])
  })

  const invalidCases: ReadonlyArray<[string, string, RegExp]> = [
    ["CODEXD_EVENT_CACHE_SIZE", "abc", /positive integer/],
    ["CODEXD_EVENT_CACHE_SIZE", "-5", /positive integer/],
    ["CODEXD_EVENT_CACHE_SIZE", "0", /positive integer/],
    ["CODEXD_EVENT_CACHE_SIZE", "1.5", /positive integer/],
    ["CODEXD_SMOKE_LIFETIME_MS", "soon", /positive integer/],
    ["CODEXD_RUN_RETENTION", "-1", /non-negative integer/],
    ["CODEXD_SERVER_MODE", "daemon", /app-server or exec/],
    ["CODEXD_CHILD_STRATEGY", "fork", /spawn or external/],
    ["CODEXD_CHILD_ARGS", "[app-server", /JSON array of strings/],
    ["CODEXD_CHILD_ARGS", '{"a":1}', /JSON array of strings/],
    ["CODEXD_CHILD_ARGS", "[1,2]", /JSON array of strings/],
    ["CODEXD_API_BASE", "http://0.0.0.0:4319", /loopback/],
    ["CODEXD_API_BASE", "http://192.168.1.5:4319", /loopback/],
    ["CODEXD_API_BASE", "https://127.0.0.1:4319", /loopback/],
    ["CODEXD_API_BASE", "http://127.0.0.1", /port/],
    ["CODEXD_API_BASE", "http://127.0.0.1:4319/api", /loopback/],
    ["CODEXD_API_BASE", "not a url", /loopback/],
    ["CODEXD_EVENT_STREAM_PATH", "events", /absolute URL path/],
    ["CODEXD_SERVER_ENDPOINT", "ws://127.0.0.1:9", /stdio:\/\//],
    ["CODEXD_NODE_ID", "   ", /non-empty/],
    ["CODEXD_PROTOCOL_LOG", "yes", /true or false/],
  ]

  it.each(invalidCases)(
    "refuses %s=%s, naming the variable, the value and the form",
    (variable, value, form) => {
      const error = failureOf(resolveWith({ [variable]: value }))
      expect(error._tag).toBe("ConfigError")
      expect(error.variable).toBe(variable)
      expect(error.value).toBe(value)
      expect(error.message).toContain(variable)
      expect(error.message).toContain(JSON.stringify(value))
      expect(error.message).toMatch(form)
    },
  )

  it("names the flag when the bad value came from a flag", () => {
    const error = failureOf(resolveWith({}, { mode: "nope" }))
    expect(error.flag).toBe("server-mode")
    expect(error.message).toContain("--server-mode")
  })

  it("refuses an external endpoint that is not ws://", () => {
    const error = failureOf(
      resolveWith({ CODEXD_CHILD_STRATEGY: "external", CODEXD_SERVER_ENDPOINT: "stdio://" }),
    )
    expect(error.variable).toBe("CODEXD_SERVER_ENDPOINT")
    expect(error.expected).toMatch(/ws:\/\//)
  })

  it("attaches to the shared codex daemon of the child's CODEX_HOME by name or by its socket", () => {
    const socketPath = "/home/me/.codex/app-server-control/app-server-control.sock"
    const byName = Result.getOrThrow(
      resolveWith({
        CODEXD_CHILD_STRATEGY: "external",
        CODEXD_SERVER_ENDPOINT: "codex-daemon",
        HOME: "/home/me",
      }),
    )
    expect(byName.server).toMatchObject({
      endpoint: "codex-daemon",
      codexDaemon: { codexHome: "/home/me/.codex", socketPath },
    })
    const byPath = Result.getOrThrow(
      resolveWith({
        CODEXD_CHILD_STRATEGY: "external",
        CODEXD_SERVER_ENDPOINT: "unix:///tmp/home/app-server-control/app-server-control.sock",
        CODEX_HOME: "/tmp/home",
      }),
    )
    expect(byPath.server.codexDaemon).toEqual({
      codexHome: "/tmp/home",
      socketPath: "/tmp/home/app-server-control/app-server-control.sock",
    })
    // Another socket is attached to, never started.
    const other = Result.getOrThrow(
      resolveWith({ CODEXD_CHILD_STRATEGY: "external", CODEXD_SERVER_ENDPOINT: "unix:///run/codex.sock" }),
    )
    expect(other.server).toMatchObject({ endpoint: "unix:///run/codex.sock" })
    expect(other.server.codexDaemon).toBeUndefined()
    const relative = failureOf(
      resolveWith({ CODEXD_CHILD_STRATEGY: "external", CODEXD_SERVER_ENDPOINT: "unix://codex.sock" }),
    )
    expect(relative.expected).toBe("unix:///absolute/path/to/the.sock")
    // Starting the daemon needs a codex binary.
    const noBinary = resolveConfig(
      testConfigInput({
        bundledCodex: null,
        env: { CODEXD_CHILD_STRATEGY: "external", CODEXD_SERVER_ENDPOINT: "codex-daemon" },
      }),
    )
    expect(failureOf(noBinary).variable).toBe("CODEXD_CHILD_COMMAND")
  })

  it("attaches to a non-loopback endpoint only with a server token", () => {
    const remote = { CODEXD_CHILD_STRATEGY: "external", CODEXD_SERVER_ENDPOINT: "ws://10.0.0.7:4500" }
    const refused = failureOf(resolveWith(remote))
    expect(refused.variable).toBe("CODEXD_SERVER_ENDPOINT")
    expect(refused.message).toContain("CODEXD_SERVER_TOKEN_FILE")
    expect(refused.message).toContain("--ws-auth capability-token")
    const withToken = Result.getOrThrow(
      resolveWith({ ...remote, CODEXD_SERVER_TOKEN_FILE: "secrets/ws-token" }),
    )
    expect(withToken.server).toMatchObject({
      endpoint: "ws://10.0.0.7:4500",
      serverTokenFile: "/srv/project/secrets/ws-token",
    })
    // Loopback names are trusted without one.
    for (const host of ["127.0.0.1", "localhost", "[::1]", "127.1.2.3"]) {
      const local = resolveWith({
        CODEXD_CHILD_STRATEGY: "external",
        CODEXD_SERVER_ENDPOINT: `ws://${host}:4500`,
      })
      expect(Result.isSuccess(local)).toBe(true)
    }
  })

  it("refuses a server token without the external strategy, and exec mode with it", () => {
    const token = failureOf(resolveWith({ CODEXD_SERVER_TOKEN_FILE: "/run/token" }))
    expect(token.variable).toBe("CODEXD_SERVER_TOKEN_FILE")
    expect(token.message).toMatch(/only for the external strategy/)
    const mixed = failureOf(
      resolveWith({
        CODEXD_SERVER_MODE: "exec",
        CODEXD_CHILD_STRATEGY: "external",
        CODEXD_SERVER_ENDPOINT: "ws://127.0.0.1:4500",
      }),
    )
    expect(mixed.variable).toBe("CODEXD_CHILD_STRATEGY")
    expect(mixed.message).toMatch(/spawn in exec mode/)
  })

  it("refuses a missing child binary, and a missing bundled codex", () => {
    const missing = resolveConfig(
      testConfigInput({
        env: { CODEXD_CHILD_COMMAND: "/nope/codex" },
        isExecutable: (c) => c !== "/nope/codex",
      }),
    )
    expect(failureOf(missing).variable).toBe("CODEXD_CHILD_COMMAND")
    const noBundle = resolveConfig(testConfigInput({ bundledCodex: null }))
    expect(failureOf(noBundle).expected).toMatch(/npm ci/)
  })

  it("refuses a repo root or child cwd that is not a directory", () => {
    const notDir = resolveConfig(
      testConfigInput({ env: { CODEXD_CHILD_CWD: "/missing" }, isDirectory: (p) => p !== "/missing" }),
    )
    expect(failureOf(notDir).variable).toBe("CODEXD_CHILD_CWD")
    const badRoot = resolveConfig(
      testConfigInput({ env: { CODEXD_REPO_ROOT: "/gone" }, isDirectory: (p) => p !== "/gone" }),
    )
    expect(failureOf(badRoot).variable).toBe("CODEXD_REPO_ROOT")
  })

  it("decodes each default with its setting's own schema, and help prints that same default", () => {
    const resolved = configFor("/srv/project")
    const byDefault: Partial<Record<SettingKey, unknown>> = {
      eventCacheSize: resolved.eventCacheSize,
      smokeLifetimeMs: resolved.smokeLifetimeMs,
      runRetention: resolved.runRetention,
      logMaxBytes: resolved.logRotation.maxBytes,
      logKeep: resolved.logRotation.keep,
      maxConcurrentRuns: resolved.runs.maxConcurrentRuns,
      runSilenceTimeoutMs: resolved.runs.runSilenceTimeoutMs,
      approvals: resolved.runs.approvals,
      approvalTimeoutMs: resolved.runs.approvalTimeoutMs,
      localApiBase: resolved.service.localApiBase,
      eventStreamPath: resolved.service.eventStreamPath,
      mode: resolved.server.mode,
      childStrategy: resolved.server.childStrategy,
      protocolLog: resolved.protocolLog,
      childArgs: resolved.server.childArgs,
      nodeLeaseMs: resolved.cluster?.nodeLeaseMs,
    }
    const help = generalHelp([])
    for (const key of settingKeys) {
      const setting: Setting = settings[key]
      if (setting.default !== null) {
        const decoded = Schema.decodeUnknownSync(setting.schema)(setting.default)
        expect(decoded).toEqual(byDefault[key])
      } else expect(setting.derivedDefault).toBeDefined()
      expect(help).toContain(`(default: ${defaultText(setting)})`)
    }
  })

  it("documents every setting with its env var and flag", () => {
    for (const setting of Object.values(settings)) {
      expect(setting.env).toMatch(/^CODEXD_[A-Z_]+$/)
      expect(setting.flag).toMatch(/^[a-z-]+$/)
      expect(setting.describe.length).toBeGreaterThan(10)
    }
  })
})
