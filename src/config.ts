/**
 * The one place that reads configuration: `CODEXD_*` environment variables and their flags.
 * Precedence is flag > env > default. Every other module asks the `CodexdConfig` service.
 *
 * `resolveConfig` is pure (the machine facts it needs come in through `ConfigInput`), so each rule
 * is tested without touching the process environment.
 */
import { accessSync, constants, statSync } from "node:fs"
import { createRequire } from "node:module"
import { hostname } from "node:os"
import { delimiter, isAbsolute, join, resolve } from "node:path"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import packageJson from "../package.json" with { type: "json" }
import { settings } from "./configSettings.ts"
import type { ResolvedConfig } from "./domain/config.ts"

export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  /** The environment variable (and so the flag) that holds the bad value. */
  variable: Schema.String,
  flag: Schema.String,
  value: Schema.String,
  expected: Schema.String,
}) {
  override get message(): string {
    return `invalid ${this.variable} (--${this.flag}) = ${JSON.stringify(this.value)}: expected ${this.expected}`
  }
}

export { type Setting, settings } from "./configSettings.ts"

export type SettingKey = keyof typeof settings
export const settingKeys = Object.keys(settings) as ReadonlyArray<SettingKey>

/** Everything `resolveConfig` needs from the machine, so that it stays a pure function. */
export interface ConfigInput {
  readonly flags: Partial<Record<SettingKey, string>>
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  readonly hostname: string
  readonly version: string | null
  /** The pinned codex binary, or null when the platform package is not installed. */
  readonly bundledCodex: string | null
  readonly isExecutable: (command: string) => boolean
  readonly isDirectory: (path: string) => boolean
}

const invalid = (key: SettingKey, value: string, expected?: string): ConfigError =>
  new ConfigError({
    variable: settings[key].env,
    flag: settings[key].flag,
    value,
    expected: expected ?? settings[key].form,
  })

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"])
const isLoopbackHost = (host: string): boolean => LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host)

const parseInteger = (key: SettingKey, raw: string, min: number): Result.Result<number, ConfigError> => {
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN
  return Number.isSafeInteger(n) && n >= min ? Result.succeed(n) : Result.fail(invalid(key, raw))
}

const parseApiBase = (raw: string): Result.Result<string, ConfigError> => {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return Result.fail(invalid("localApiBase", raw))
  }
  const bare = url.pathname === "/" && url.search === "" && url.hash === "" && url.username === ""
  if (url.protocol !== "http:" || !bare || url.port === "" || !isLoopbackHost(url.hostname)) {
    return Result.fail(invalid("localApiBase", raw))
  }
  return Result.succeed(`http://${url.host}`)
}

const parseChildArgs = (raw: string): Result.Result<ReadonlyArray<string>, ConfigError> => {
  try {
    const parsed: unknown = JSON.parse(raw)
    if (Array.isArray(parsed) && parsed.every((a) => typeof a === "string")) return Result.succeed(parsed)
  } catch {
    // reported below with the expected form
  }
  return Result.fail(invalid("childArgs", raw))
}

const parseEndpoint = (
  raw: string,
  strategy: "spawn" | "external",
  hasToken: boolean,
): Result.Result<string, ConfigError> => {
  if (strategy === "spawn") {
    return raw === "stdio://"
      ? Result.succeed(raw)
      : Result.fail(invalid("endpoint", raw, "stdio:// (the spawn strategy talks to its child over stdio)"))
  }
  let url: URL | null = null
  try {
    url = new URL(raw)
  } catch {
    // reported below
  }
  if (url === null || (url.protocol !== "ws:" && url.protocol !== "wss:") || url.port === "") {
    return Result.fail(
      invalid("endpoint", raw, "ws://<host>:<port> (the external strategy attaches over WebSocket)"),
    )
  }
  // Anyone who can reach a non-loopback app-server can run commands through it: only with a token.
  if (!isLoopbackHost(url.hostname) && !hasToken) {
    return Result.fail(
      invalid(
        "endpoint",
        raw,
        `a loopback address (ws://127.0.0.1:<port>), or ${settings.serverTokenFile.env} for a server started with --ws-auth capability-token`,
      ),
    )
  }
  return Result.succeed(raw)
}

/** Resolve the full configuration, or say exactly which value is wrong and what it should look like. */
export const resolveConfig = (input: ConfigInput): Result.Result<ResolvedConfig, ConfigError> =>
  Result.gen(function* () {
    const raw = (key: SettingKey): string | undefined => {
      const fromFlag = input.flags[key]
      if (fromFlag !== undefined) return fromFlag
      const fromEnv = input.env[settings[key].env]
      return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv
    }
    const pathSetting = (
      key: SettingKey,
      base: string,
      fallback: string,
    ): Result.Result<string, ConfigError> => {
      const value = raw(key)
      if (value === undefined) return Result.succeed(fallback)
      return value.trim() === "" ? Result.fail(invalid(key, value)) : Result.succeed(resolve(base, value))
    }

    const repoRoot = yield* pathSetting("repoRoot", input.cwd, input.cwd)
    if (!input.isDirectory(repoRoot))
      return yield* Result.fail(invalid("repoRoot", repoRoot, "an existing directory"))
    const stateRootDir = yield* pathSetting("stateRootDir", repoRoot, join(repoRoot, ".codexd"))
    const logsRootDir = yield* pathSetting("logsRootDir", repoRoot, join(repoRoot, ".codexd"))

    const nodeIdRaw = raw("nodeId")
    if (nodeIdRaw !== undefined && nodeIdRaw.trim() === "")
      return yield* Result.fail(invalid("nodeId", nodeIdRaw))
    const nodeId = nodeIdRaw ?? input.hostname

    const eventCacheSize = yield* parseInteger("eventCacheSize", raw("eventCacheSize") ?? "1000", 1)
    const smokeLifetimeMs = yield* parseInteger("smokeLifetimeMs", raw("smokeLifetimeMs") ?? "60000", 1)
    const runRetention = yield* parseInteger("runRetention", raw("runRetention") ?? "1000", 0)
    const maxConcurrentRuns = yield* parseInteger("maxConcurrentRuns", raw("maxConcurrentRuns") ?? "4", 1)
    const runSilenceTimeoutMs = yield* parseInteger(
      "runSilenceTimeoutMs",
      raw("runSilenceTimeoutMs") ?? "600000",
      1,
    )
    const approvals = raw("approvals") ?? "ask"
    if (approvals !== "auto-accept" && approvals !== "auto-decline" && approvals !== "ask")
      return yield* Result.fail(invalid("approvals", approvals))
    const approvalTimeoutMs = yield* parseInteger(
      "approvalTimeoutMs",
      raw("approvalTimeoutMs") ?? "300000",
      1,
    )
    const localApiBase = yield* parseApiBase(raw("localApiBase") ?? "http://127.0.0.1:4319")

    const eventStreamPath = raw("eventStreamPath") ?? "/v1/events"
    if (!/^\/[A-Za-z0-9._~\-/]*$/.test(eventStreamPath) || eventStreamPath.startsWith("//")) {
      return yield* Result.fail(invalid("eventStreamPath", eventStreamPath))
    }

    const mode = raw("mode") ?? "app-server"
    if (mode !== "app-server" && mode !== "exec") return yield* Result.fail(invalid("mode", mode))
    const childStrategy = raw("childStrategy") ?? "spawn"
    if (childStrategy !== "spawn" && childStrategy !== "external") {
      return yield* Result.fail(invalid("childStrategy", childStrategy))
    }
    if (mode === "exec" && childStrategy === "external") {
      return yield* Result.fail(
        invalid(
          "childStrategy",
          childStrategy,
          "spawn in exec mode (exec mode runs codex exec itself; external attaches to an app-server)",
        ),
      )
    }
    const tokenFile =
      raw("serverTokenFile") === undefined ? null : yield* pathSetting("serverTokenFile", repoRoot, "")
    if (tokenFile !== null && childStrategy !== "external") {
      return yield* Result.fail(
        invalid("serverTokenFile", tokenFile, "unset (the token is only for the external strategy)"),
      )
    }
    const endpoint = yield* parseEndpoint(
      raw("endpoint") ?? (childStrategy === "spawn" ? "stdio://" : ""),
      childStrategy,
      tokenFile !== null,
    )

    const protocolLogRaw = raw("protocolLog") ?? "false"
    if (protocolLogRaw !== "true" && protocolLogRaw !== "false")
      return yield* Result.fail(invalid("protocolLog", protocolLogRaw))

    const childCwd = yield* pathSetting("childCwd", repoRoot, repoRoot)
    if (!input.isDirectory(childCwd)) return yield* Result.fail(invalid("childCwd", childCwd))
    const childArgsRaw = raw("childArgs")
    const childArgs = childArgsRaw === undefined ? ["app-server"] : [...(yield* parseChildArgs(childArgsRaw))]

    const commandRaw = raw("childCommand")
    const childCommand = commandRaw ?? input.bundledCodex
    // An attached server needs no binary of ours; a spawned one (or exec mode) must have one.
    const needsBinary = childStrategy === "spawn" || mode === "exec"
    if (childCommand === null) {
      if (needsBinary) {
        return yield* Result.fail(
          invalid(
            "childCommand",
            "",
            "the pinned @openai/codex platform package (run `npm ci`), or a codex binary",
          ),
        )
      }
    } else if (needsBinary && !input.isExecutable(childCommand)) {
      return yield* Result.fail(invalid("childCommand", childCommand))
    }

    const stateDir = join(stateRootDir, "state")
    const logsDir = join(logsRootDir, "logs")
    return {
      nodeId,
      version: input.version,
      eventCacheSize,
      smokeLifetimeMs,
      runRetention,
      runs: { maxConcurrentRuns, runSilenceTimeoutMs, approvals, approvalTimeoutMs },
      protocolLog: protocolLogRaw === "true",
      paths: {
        repoRoot,
        logsRootDir,
        stateRootDir,
        logsDir,
        stateDir,
        structuredEventLogPath: join(logsDir, "events.jsonl"),
        stdoutLogPath: join(logsDir, "child.stdout.log"),
        stderrLogPath: join(logsDir, "child.stderr.log"),
        daemonLogPath: join(logsDir, "daemon.log"),
        identityPath: join(stateDir, "identity.json"),
        daemonStatePath: join(stateDir, "daemon.json"),
        sessionRegistryPath: join(stateDir, "sessions.json"),
        runRegistryPath: join(stateDir, "runs.json"),
        runArchivePath: join(stateDir, "runs.archive.jsonl"),
        approvalRegistryPath: join(stateDir, "approvals.json"),
        recentEventsPath: join(stateDir, "events.json"),
        lockPath: join(stateDir, "daemon.lock"),
        apiTokenPath: join(stateDir, "api-token"),
      },
      service: { eventStreamPath, localApiBase },
      server: {
        mode,
        endpoint,
        childStrategy,
        childCommand: childCommand ?? "",
        childArgs,
        childCwd,
        serverTokenFile: tokenFile,
      },
    }
  })

// ---------------------------------------------------------------------------------------------
// Machine facts, read once by `configInputFromProcess`.

const CODEX_TARGETS: Record<string, string> = {
  "linux-x64": "x86_64-unknown-linux-musl",
  "linux-arm64": "aarch64-unknown-linux-musl",
  "darwin-x64": "x86_64-apple-darwin",
  "darwin-arm64": "aarch64-apple-darwin",
  "win32-x64": "x86_64-pc-windows-msvc",
  "win32-arm64": "aarch64-pc-windows-msvc",
}

/**
 * The native codex binary inside the pinned platform package. Spawning it directly (not the
 * package's Node launcher) means the pid we supervise is codex itself, and signals reach it.
 */
export const bundledCodexPath = (): string | null => {
  const key = `${process.platform}-${process.arch}`
  const target = CODEX_TARGETS[key]
  if (target === undefined) return null
  try {
    const require = createRequire(import.meta.url)
    const manifest = require.resolve(`@openai/codex-${key}/package.json`)
    const binary = join(
      manifest,
      "..",
      "vendor",
      target,
      "bin",
      process.platform === "win32" ? "codex.exe" : "codex",
    )
    return isExecutableFile(binary) ? binary : null
  } catch {
    return null
  }
}

const isExecutableFile = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

const isExecutableCommand = (command: string, env: Readonly<Record<string, string | undefined>>): boolean => {
  if (isAbsolute(command) || command.includes("/")) return isExecutableFile(resolve(command))
  return (env.PATH ?? "").split(delimiter).some((dir) => dir !== "" && isExecutableFile(join(dir, command)))
}

const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

export const configInputFromProcess = (flags: Partial<Record<SettingKey, string>>): ConfigInput => ({
  flags,
  env: process.env,
  cwd: process.cwd(),
  hostname: hostname(),
  version: packageJson.version,
  bundledCodex: bundledCodexPath(),
  isExecutable: (command) => isExecutableCommand(command, process.env),
  isDirectory,
})

/** The resolved configuration as a service: resolved once at start, read everywhere. */
export class CodexdConfig extends Context.Service<CodexdConfig, ResolvedConfig>()("codexd/Config") {
  static readonly layerOf = (config: ResolvedConfig): Layer.Layer<CodexdConfig> =>
    Layer.succeed(CodexdConfig, config)
}
