/**
 * The resolved configuration: what `codexd config --json` prints and what every service reads.
 * Resolution (flags > env > defaults) lives in `src/config.ts`; this file only says what a valid
 * resolved config looks like.
 */
import * as Schema from "effect/Schema"
import { ApprovalMode } from "./approval.ts"
import { NonNegativeInt, PositiveInt } from "./json.ts"

export const ServerMode = Schema.Literals(["app-server", "exec"])
export type ServerMode = typeof ServerMode.Type

export const ChildStrategy = Schema.Literals(["spawn", "external"])
export type ChildStrategy = typeof ChildStrategy.Type

export const RuntimePaths = Schema.Struct({
  repoRoot: Schema.String,
  logsRootDir: Schema.String,
  stateRootDir: Schema.String,
  logsDir: Schema.String,
  stateDir: Schema.String,
  structuredEventLogPath: Schema.String,
  stdoutLogPath: Schema.String,
  stderrLogPath: Schema.String,
  identityPath: Schema.String,
  daemonStatePath: Schema.String,
  sessionRegistryPath: Schema.String,
  /** Changes to the session registry since sessions.json was last written. */
  sessionJournalPath: Schema.String,
  runRegistryPath: Schema.String,
  /** Changes to the run registry since runs.json was last written. */
  runJournalPath: Schema.String,
  recentEventsPath: Schema.String,
  /** Finished runs past the retention limit, one JSON line each. */
  runArchivePath: Schema.String,
  /** Approvals asked of a person, pending or settled. */
  approvalRegistryPath: Schema.String,
  /** Holds the pid of the daemon that owns the state directory. */
  lockPath: Schema.String,
  /** Bearer token of the local API (mode 0600). */
  apiTokenPath: Schema.String,
  /** The daemon's own diagnostic log (pino JSON lines). */
  daemonLogPath: Schema.String,
})
export type RuntimePaths = typeof RuntimePaths.Type

export const CodexDaemonTarget = Schema.Struct({
  codexHome: Schema.String,
  /** Where `daemon start` puts its control socket: CODEX_HOME/app-server-control/app-server-control.sock. */
  socketPath: Schema.String,
})
export type CodexDaemonTarget = typeof CodexDaemonTarget.Type

export const ServerConfig = Schema.Struct({
  mode: ServerMode,
  endpoint: Schema.String,
  childStrategy: ChildStrategy,
  childCommand: Schema.String,
  childArgs: Schema.Array(Schema.String),
  childCwd: Schema.String,
  /** The capability token file of an external server started with `--ws-auth capability-token`. */
  serverTokenFile: Schema.NullOr(Schema.String),
  /**
   * The official shared app-server (`codex app-server daemon`) of a CODEX_HOME, when the endpoint is
   * its socket: codexd starts it again (`daemon start`) when it is gone, and never stops it.
   */
  codexDaemon: Schema.optionalKey(Schema.NullOr(CodexDaemonTarget)),
})
export type ServerConfig = typeof ServerConfig.Type

export const LocalServiceConfig = Schema.Struct({
  eventStreamPath: Schema.String,
  localApiBase: Schema.String,
})
export type LocalServiceConfig = typeof LocalServiceConfig.Type

/** How runs are scheduled, watched and their approvals answered. */
export const RunsConfig = Schema.Struct({
  maxConcurrentRuns: PositiveInt,
  runSilenceTimeoutMs: PositiveInt,
  /** The approval mode of a session that does not name one. */
  approvals: ApprovalMode,
  approvalTimeoutMs: PositiveInt,
})
export type RunsConfig = typeof RunsConfig.Type

export const ResolvedConfig = Schema.Struct({
  nodeId: Schema.String,
  version: Schema.NullOr(Schema.String),
  eventCacheSize: PositiveInt,
  smokeLifetimeMs: PositiveInt,
  /** Finished runs kept in the run registry before older ones move to the archive. */
  runRetention: NonNegativeInt,
  runs: RunsConfig,
  /** Logs past this size are rotated, keeping `keep` older files. */
  logRotation: Schema.Struct({ maxBytes: PositiveInt, keep: NonNegativeInt }),
  /** Write every raw protocol line to the child stdout log. */
  protocolLog: Schema.Boolean,
  /** Cluster mode: runs and sessions shared through PostgreSQL (absent or no URL: this daemon's files). */
  cluster: Schema.optionalKey(
    Schema.Struct({ queueUrl: Schema.NullOr(Schema.String), nodeLeaseMs: PositiveInt }),
  ),
  paths: RuntimePaths,
  service: LocalServiceConfig,
  server: ServerConfig,
})
export type ResolvedConfig = typeof ResolvedConfig.Type
