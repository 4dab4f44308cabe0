/**
 * The one place that reads configuration: `CODEXD_*` environment variables, their flags, and the
 * project's `codexd.json`. Precedence is flag > env > file > default. Every other module asks the
 * `CodexdConfig` service.
 *
 * `resolveConfig` is pure (the machine facts it needs come in through `ConfigInput`, read by
 * `configInputFromProcess.ts`), so each rule is tested without touching the process environment.
 */
import { dirname, join, resolve } from "node:path"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { isLoopbackHost, settings } from "./configSettings.ts"
import type { CodexDaemonTarget, ResolvedConfig } from "./domain/config.ts"

export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  /** The environment variable (and so the flag) that holds the bad value. */
  variable: Schema.String,
  flag: Schema.String,
  value: Schema.String,
  expected: Schema.String,
  /** The config file the value came from, when it came from one. */
  file: Schema.optional(Schema.String),
}) {
  override get message(): string {
    const where =
      this.file === undefined ? `${this.variable} (--${this.flag})` : `${this.variable} in ${this.file}`
    return `invalid ${where} = ${JSON.stringify(this.value)}: expected ${this.expected}`
  }
}

/** The project's config file, below flags and env in precedence. */
export const CONFIG_FILE_NAME = "codexd.json"

export type SettingSource = "flag" | "env" | "file" | "default"

export { defaultText, type Setting, settings } from "./configSettings.ts"

export type SettingKey = keyof typeof settings
export const settingKeys = Object.keys(settings) as ReadonlyArray<SettingKey>

/** The settings whose default is a value of their own (not derived from another setting). */
type KeysWithDefault = {
  [K in SettingKey]: (typeof settings)[K]["default"] extends string ? K : never
}[SettingKey]
const settingsWithDefaults: { readonly [K in KeysWithDefault]: (typeof settings)[K] } = settings

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
  readonly exists: (path: string) => boolean
  /** A file's text, or null when there is none. */
  readonly readFile: (path: string) => string | null
}

/**
 * The project a command run in `cwd` belongs to, found as git finds its repository: the nearest
 * directory at or above `cwd` with a `.codexd/`, else the nearest with a `package.json` or `.git`,
 * else `cwd` itself. So `codexd status` in `src/` finds the daemon started at the root.
 */
export const findProjectRoot = (cwd: string, exists: (path: string) => boolean): string => {
  const ancestors: Array<string> = []
  for (let dir = cwd; ; dir = dirname(dir)) {
    ancestors.push(dir)
    if (dirname(dir) === dir) break
  }
  return (
    ancestors.find((dir) => exists(join(dir, ".codexd"))) ??
    ancestors.find((dir) => exists(join(dir, "package.json")) || exists(join(dir, ".git"))) ??
    cwd
  )
}

const invalid = (key: SettingKey, value: string, expected?: string): ConfigError =>
  new ConfigError({
    variable: settings[key].env,
    flag: settings[key].flag,
    value,
    expected: expected ?? settings[key].form,
  })

/** The type a setting's schema decodes to. */
type SettingValue<K extends SettingKey> = (typeof settings)[K]["schema"]["Type"]

/** Decode a setting's text with its schema; a bad one is reported with the setting's form. */
const decodeSetting = <K extends SettingKey>(
  key: K,
  text: string,
): Result.Result<SettingValue<K>, ConfigError> => {
  const schema = settings[key].schema as Schema.ConstraintDecoder<SettingValue<K>>
  const decoded = Schema.decodeUnknownResult(schema)(text)
  return Result.isSuccess(decoded) ? Result.succeed(decoded.success) : Result.fail(invalid(key, text))
}

/** The endpoint naming the official shared app-server of the child's CODEX_HOME. */
export const CODEX_DAEMON_ENDPOINT = "codex-daemon"

/** The control socket `codex app-server daemon start` listens on, for a CODEX_HOME. */
export const codexDaemonSocketPath = (codexHome: string): string =>
  join(codexHome, "app-server-control", "app-server-control.sock")

/**
 * The shared daemon codexd may start again: the one of the child's CODEX_HOME (codex's own default
 * is ~/.codex), when the endpoint names it or is its socket. Another socket is only attached to.
 */
const codexDaemonOf = (
  endpoint: string,
  env: Readonly<Record<string, string | undefined>>,
): CodexDaemonTarget | null => {
  const codexHome = resolve(env.CODEX_HOME ?? join(env.HOME ?? "/", ".codex"))
  const socketPath = codexDaemonSocketPath(codexHome)
  if (endpoint === CODEX_DAEMON_ENDPOINT) return { codexHome, socketPath }
  if (endpoint.startsWith("unix://") && resolve(endpoint.slice("unix://".length)) === socketPath)
    return { codexHome, socketPath }
  return null
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
  // The official shared app-server's Unix socket (`codex app-server daemon`), by name or by path.
  if (raw === CODEX_DAEMON_ENDPOINT) return Result.succeed(raw)
  if (raw.startsWith("unix://")) {
    return raw.length > "unix://".length && raw.startsWith("unix:///")
      ? Result.succeed(raw)
      : Result.fail(invalid("endpoint", raw, "unix:///absolute/path/to/the.sock"))
  }
  let url: URL | null = null
  try {
    url = new URL(raw)
  } catch {
    // reported below
  }
  if (url === null || (url.protocol !== "ws:" && url.protocol !== "wss:") || url.port === "") {
    return Result.fail(
      invalid(
        "endpoint",
        raw,
        `ws://<host>:<port>, unix:///path/to/the.sock or ${CODEX_DAEMON_ENDPOINT} (the external strategy attaches over WebSocket)`,
      ),
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

/**
 * The settings a project's `codexd.json` gives, as text for the same decoders as flags and env:
 * `{ "maxConcurrentRuns": 8, "approvals": "auto-accept", "childArgs": ["app-server"] }`.
 */
const readConfigFile = (
  path: string,
  text: string | null,
): Result.Result<Partial<Record<SettingKey, string>> | null, ConfigError> => {
  if (text === null) return Result.succeed(null)
  const refuse = (variable: string, value: string, expected: string) =>
    Result.fail(new ConfigError({ variable, flag: "", value, expected, file: path }))
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    return refuse("JSON", text.slice(0, 40), `a JSON object of settings (${(error as Error).message})`)
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    return refuse("JSON", text.slice(0, 40), "a JSON object of settings")
  const found: Partial<Record<SettingKey, string>> = {}
  for (const [name, value] of Object.entries(parsed)) {
    const key = settingKeys.find((k) => k === name)
    if (key === undefined || key === "repoRoot")
      return refuse(
        name,
        JSON.stringify(value),
        `one of the settings ${settingKeys.filter((k) => k !== "repoRoot").join(", ")}`,
      )
    if (value === null || (typeof value === "object" && !Array.isArray(value)))
      return refuse(name, JSON.stringify(value), "a string, number, boolean or array")
    found[key] = typeof value === "object" ? JSON.stringify(value) : String(value)
  }
  return Result.succeed(found)
}

/** Where a setting's value comes from: flag over env over the config file over the default. */
const sourceOfSetting = (
  key: SettingKey,
  input: ConfigInput,
  fromFile: Partial<Record<SettingKey, string>> | null,
): SettingSource => {
  if (input.flags[key] !== undefined) return "flag"
  const fromEnv = input.env[settings[key].env]
  if (fromEnv !== undefined && fromEnv !== "") return "env"
  return fromFile?.[key] !== undefined ? "file" : "default"
}

/** For `codexd config`: where each setting of a resolved configuration came from. */
export const settingSources = (
  input: ConfigInput,
  config: ResolvedConfig,
): Readonly<Record<SettingKey, SettingSource>> => {
  const path = join(config.paths.repoRoot, CONFIG_FILE_NAME)
  const file = readConfigFile(path, input.readFile(path))
  const fromFile = Result.isSuccess(file) ? file.success : null
  return Object.fromEntries(settingKeys.map((key) => [key, sourceOfSetting(key, input, fromFile)])) as Record<
    SettingKey,
    SettingSource
  >
}

/** Resolve the full configuration, or say exactly which value is wrong and what it should look like. */
export const resolveConfig = (input: ConfigInput): Result.Result<ResolvedConfig, ConfigError> => {
  // Set once the config file is known: which of its values a failure names is only known inside.
  let blame = (error: ConfigError): ConfigError => error
  const resolved = Result.gen(function* () {
    const sourceOf = (key: SettingKey): SettingSource => sourceOfSetting(key, input, fromFile)
    const raw = (key: SettingKey): string | undefined => {
      switch (sourceOf(key)) {
        case "flag":
          return input.flags[key]
        case "env":
          return input.env[settings[key].env]
        case "file":
          return fromFile?.[key]
        default:
          return undefined
      }
    }
    /** A setting given (flag or env) and decoded, or undefined when it was not given. */
    const given = <K extends SettingKey>(key: K): Result.Result<SettingValue<K> | undefined, ConfigError> => {
      const text = raw(key)
      return text === undefined ? Result.succeed(undefined) : decodeSetting(key, text)
    }
    /** A setting with a default of its own: given, or its default decoded by the same schema. */
    const settingValue = <K extends SettingKey>(key: K & keyof typeof settingsWithDefaults) =>
      decodeSetting(key, raw(key) ?? settingsWithDefaults[key].default)
    const pathSetting = (key: SettingKey, base: string, fallback: string) =>
      Result.map(given(key), (value) => (typeof value === "string" ? resolve(base, value) : fallback))

    // The project root is found before the file, which lives in it (and so cannot move it).
    let fromFile: Partial<Record<SettingKey, string>> | null = null
    const repoRoot = yield* pathSetting("repoRoot", input.cwd, findProjectRoot(input.cwd, input.exists))
    if (!input.isDirectory(repoRoot))
      return yield* Result.fail(invalid("repoRoot", repoRoot, "an existing directory"))
    const configFile = join(repoRoot, CONFIG_FILE_NAME)
    fromFile = yield* readConfigFile(configFile, input.readFile(configFile))
    // A bad value from the file is reported as the file's, with the same expectation.
    blame = (error) => {
      const key = settingKeys.find((k) => settings[k].env === error.variable)
      return key !== undefined && sourceOf(key) === "file"
        ? new ConfigError({ ...error, variable: key, file: configFile })
        : error
    }
    const stateRootDir = yield* pathSetting("stateRootDir", repoRoot, join(repoRoot, ".codexd"))
    const logsRootDir = yield* pathSetting("logsRootDir", repoRoot, join(repoRoot, ".codexd"))
    const nodeId = (yield* given("nodeId")) ?? input.hostname

    const eventCacheSize = yield* settingValue("eventCacheSize")
    const smokeLifetimeMs = yield* settingValue("smokeLifetimeMs")
    const runRetention = yield* settingValue("runRetention")
    const logRotation = { maxBytes: yield* settingValue("logMaxBytes"), keep: yield* settingValue("logKeep") }
    const maxConcurrentRuns = yield* settingValue("maxConcurrentRuns")
    const runSilenceTimeoutMs = yield* settingValue("runSilenceTimeoutMs")
    const approvals = yield* settingValue("approvals")
    const approvalTimeoutMs = yield* settingValue("approvalTimeoutMs")
    const localApiBase = yield* settingValue("localApiBase")
    const eventStreamPath = yield* settingValue("eventStreamPath")
    const mode = yield* settingValue("mode")
    const childStrategy = yield* settingValue("childStrategy")
    const protocolLog = yield* settingValue("protocolLog")
    const childArgs = [...(yield* settingValue("childArgs"))]
    const queueUrl = (yield* given("queueUrl")) ?? null
    const nodeLeaseMs = yield* settingValue("nodeLeaseMs")

    // The rules that relate settings to one another.
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

    const childCwd = yield* pathSetting("childCwd", repoRoot, repoRoot)
    if (!input.isDirectory(childCwd)) return yield* Result.fail(invalid("childCwd", childCwd))

    const codexDaemon = childStrategy === "external" ? codexDaemonOf(endpoint, input.env) : null

    const childCommand = (yield* given("childCommand")) ?? input.bundledCodex
    // An attached server needs no binary of ours, except to start the shared daemon again; a spawned
    // one (or exec mode) must have one.
    const needsBinary = childStrategy === "spawn" || mode === "exec" || codexDaemon !== null
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
      logRotation,
      protocolLog,
      cluster: { queueUrl, nodeLeaseMs },
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
        sessionJournalPath: join(stateDir, "sessions.journal.jsonl"),
        runRegistryPath: join(stateDir, "runs.json"),
        runJournalPath: join(stateDir, "runs.journal.jsonl"),
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
        ...(codexDaemon === null ? {} : { codexDaemon }),
      },
    }
  })
  return Result.mapError(resolved, (error) => blame(error))
}

/** The resolved configuration as a service: resolved once at start, read everywhere. */
export class CodexdConfig extends Context.Service<CodexdConfig, ResolvedConfig>()("codexd/Config") {
  static readonly layerOf = (config: ResolvedConfig): Layer.Layer<CodexdConfig> =>
    Layer.succeed(CodexdConfig, config)
}
