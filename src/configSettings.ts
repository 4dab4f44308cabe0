/**
 * Every configurable value: its environment variable, its flag (every command takes it), the form a
 * valid value has, what it does, the schema that decodes its text, and its default. Data only:
 * `config.ts` resolves a value (flag > env > default) through its schema and adds the rules that
 * relate settings to one another; `codexd help` prints each default from this same table.
 */
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import { ApprovalMode } from "./domain/approval.ts"
import { ChildStrategy, ServerMode } from "./domain/config.ts"

/** One configurable value: where it comes from, what it may be, and what it is when not given. */
export interface Setting {
  readonly env: string
  readonly flag: string
  /** What a valid value looks like, for error messages and help. */
  readonly form: string
  readonly describe: string
  /** Decodes the value's text (from a flag or the environment) into what the config holds. */
  readonly schema: Schema.ConstraintDecoder<unknown>
  /** The default as it would be typed, decoded like a given value; null when another value decides it. */
  readonly default: string | null
  /** What decides the default when `default` is null, in words. */
  readonly derivedDefault?: string
}

/** The default in words, as help prints it. */
export const defaultText = (setting: Setting): string => setting.default ?? setting.derivedDefault ?? "none"

const NonBlankText = Schema.String.check(Schema.isPattern(/\S/))

/** A path; relative ones are resolved against the repo root (or the cwd) by `config.ts`. */
const PathText = NonBlankText

/** A decimal integer of at least `min`, surrounding blanks allowed. */
const intText = (min: number) =>
  Schema.String.check(Schema.isPattern(/^\s*\d+\s*$/)).pipe(
    Schema.decodeTo(
      Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(min)),
      SchemaTransformation.transform({ decode: (text) => Number(text.trim()), encode: String }),
    ),
  )

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"])
export const isLoopbackHost = (host: string): boolean =>
  LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host)

const loopbackApiBase = (text: string): URL | null => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return null
  }
  const bare = url.pathname === "/" && url.search === "" && url.hash === "" && url.username === ""
  return url.protocol === "http:" && bare && url.port !== "" && isLoopbackHost(url.hostname) ? url : null
}

/** `http://<loopback host>:<port>`, normalised to exactly that (no path, no trailing slash). */
const ApiBaseText = Schema.String.check(
  Schema.makeFilter((text: string) => loopbackApiBase(text) !== null),
).pipe(
  Schema.decodeTo(
    Schema.String,
    SchemaTransformation.transform({
      decode: (text) => `http://${loopbackApiBase(text)?.host}`,
      encode: (base) => base,
    }),
  ),
)

const UrlPathText = Schema.String.check(Schema.isPattern(/^\/(?!\/)[A-Za-z0-9._~\-/]*$/))

const ArgsText = Schema.fromJsonString(Schema.Array(Schema.String))

const BooleanText = Schema.Literals(["true", "false"]).pipe(
  Schema.decodeTo(
    Schema.Boolean,
    SchemaTransformation.transform({
      decode: (text) => text === "true",
      encode: (flag): "true" | "false" => (flag ? "true" : "false"),
    }),
  ),
)

export const settings = {
  repoRoot: {
    env: "CODEXD_REPO_ROOT",
    flag: "repo-root",
    form: "a directory",
    describe: "project root; state and logs default to <repoRoot>/.codexd",
    schema: PathText,
    default: null,
    derivedDefault:
      "the nearest directory up from here with a .codexd/, else with a package.json or .git, else here",
  },
  stateRootDir: {
    env: "CODEXD_STATE_DIR",
    flag: "state-dir",
    form: "a directory path",
    describe: "root of the state directory (state/ under it)",
    schema: PathText,
    default: null,
    derivedDefault: "<repoRoot>/.codexd",
  },
  logsRootDir: {
    env: "CODEXD_LOGS_DIR",
    flag: "logs-dir",
    form: "a directory path",
    describe: "root of the logs directory (logs/ under it)",
    schema: PathText,
    default: null,
    derivedDefault: "<repoRoot>/.codexd",
  },
  nodeId: {
    env: "CODEXD_NODE_ID",
    flag: "node-id",
    form: "a non-empty name",
    describe: "name of this node",
    schema: NonBlankText,
    default: null,
    derivedDefault: "the host name",
  },
  eventCacheSize: {
    env: "CODEXD_EVENT_CACHE_SIZE",
    flag: "event-cache-size",
    form: "a positive integer",
    describe: "recent events kept for replay",
    schema: intText(1),
    default: "1000",
  },
  logMaxBytes: {
    env: "CODEXD_LOG_MAX_BYTES",
    flag: "log-max-bytes",
    form: "a positive integer (bytes)",
    describe: "size at which events.jsonl, daemon.log and child.stderr.log are rotated",
    schema: intText(1),
    default: String(64 * 1024 * 1024),
  },
  logKeep: {
    env: "CODEXD_LOG_KEEP",
    flag: "log-keep",
    form: "a non-negative integer",
    describe: "rotated files kept of each log (<name>.1 is the newest)",
    schema: intText(0),
    default: "5",
  },
  smokeLifetimeMs: {
    env: "CODEXD_SMOKE_LIFETIME_MS",
    flag: "smoke-lifetime-ms",
    form: "a positive integer (milliseconds)",
    describe: "longest a smoke check may take",
    schema: intText(1),
    default: "60000",
  },
  runRetention: {
    env: "CODEXD_RUN_RETENTION",
    flag: "run-retention",
    form: "a non-negative integer",
    describe: "finished runs kept in the registry before older ones are archived",
    schema: intText(0),
    default: "1000",
  },
  maxConcurrentRuns: {
    env: "CODEXD_MAX_CONCURRENT_RUNS",
    flag: "max-concurrent-runs",
    form: "a positive integer",
    describe: "turns running at once across all sessions",
    schema: intText(1),
    default: "4",
  },
  runSilenceTimeoutMs: {
    env: "CODEXD_RUN_SILENCE_TIMEOUT_MS",
    flag: "run-silence-timeout-ms",
    form: "a positive integer (milliseconds)",
    describe: "a running turn with no event from codex for this long is interrupted as stalled",
    schema: intText(1),
    default: "600000",
  },
  approvals: {
    env: "CODEXD_APPROVALS",
    flag: "approvals",
    form: "auto-accept, auto-decline or ask",
    describe: "how approvals are answered when a session does not say",
    schema: ApprovalMode,
    default: "ask",
  },
  approvalTimeoutMs: {
    env: "CODEXD_APPROVAL_TIMEOUT_MS",
    flag: "approval-timeout-ms",
    form: "a positive integer (milliseconds)",
    describe: "an asked approval not answered within this is declined",
    schema: intText(1),
    default: "300000",
  },
  localApiBase: {
    env: "CODEXD_API_BASE",
    flag: "api-base",
    form: "http://<loopback address>:<port> (127.0.0.1, [::1] or localhost; port 0 picks a free port)",
    describe: "where the local API listens",
    schema: ApiBaseText,
    default: "http://127.0.0.1:4319",
  },
  eventStreamPath: {
    env: "CODEXD_EVENT_STREAM_PATH",
    flag: "event-stream-path",
    form: "an absolute URL path such as /v1/events",
    describe: "path of the Server-Sent Events stream",
    schema: UrlPathText,
    default: "/v1/events",
  },
  mode: {
    env: "CODEXD_SERVER_MODE",
    flag: "server-mode",
    form: "app-server or exec",
    describe: "how Codex is driven",
    schema: ServerMode,
    default: "app-server",
  },
  childStrategy: {
    env: "CODEXD_CHILD_STRATEGY",
    flag: "child-strategy",
    form: "spawn or external",
    describe: "spawn a managed child, or attach to an external app-server",
    schema: ChildStrategy,
    default: "spawn",
  },
  endpoint: {
    env: "CODEXD_SERVER_ENDPOINT",
    flag: "server-endpoint",
    form: "stdio:// with the spawn strategy; ws://<host>:<port>, unix:///path.sock or codex-daemon with the external strategy",
    describe: "where the app-server is reached",
    schema: Schema.String,
    default: null,
    derivedDefault: "stdio:// with the spawn strategy; none with the external strategy",
  },
  serverTokenFile: {
    env: "CODEXD_SERVER_TOKEN_FILE",
    flag: "server-token-file",
    form: "a file path (the external strategy only)",
    describe:
      "file holding the capability token of an external app-server started with --ws-auth capability-token; required for a non-loopback endpoint",
    schema: PathText,
    default: null,
    derivedDefault: "none",
  },
  childCommand: {
    env: "CODEXD_CHILD_COMMAND",
    flag: "child-command",
    form: "an executable file, or a command on PATH",
    describe: "the codex binary",
    schema: NonBlankText,
    default: null,
    derivedDefault: "the native binary of the pinned @openai/codex package",
  },
  childArgs: {
    env: "CODEXD_CHILD_ARGS",
    flag: "child-args",
    form: 'a JSON array of strings, such as ["app-server"]',
    describe: "arguments of the child",
    schema: ArgsText,
    default: '["app-server"]',
  },
  protocolLog: {
    env: "CODEXD_PROTOCOL_LOG",
    flag: "protocol-log",
    form: "true or false",
    describe: "also write every raw protocol line to child.stdout.log; it holds prompts and output",
    schema: BooleanText,
    default: "false",
  },
  queueUrl: {
    env: "CODEXD_QUEUE_URL",
    flag: "queue-url",
    form: "postgres://[user[:password]@]host[:port]/database",
    describe: "share runs and sessions with other nodes through this PostgreSQL database (cluster mode)",
    schema: Schema.String.check(Schema.isPattern(/^postgres(ql)?:\/\/\S+$/)),
    default: null,
    derivedDefault: "none: runs stay in this daemon's state directory",
  },
  nodeLeaseMs: {
    env: "CODEXD_NODE_LEASE_MS",
    flag: "node-lease-ms",
    form: "a positive integer (milliseconds)",
    describe: "cluster mode: a node with no heartbeat for this long is lost and its runs are ended",
    schema: intText(1),
    default: "30000",
  },
  childCwd: {
    env: "CODEXD_CHILD_CWD",
    flag: "child-cwd",
    form: "an existing directory",
    describe: "working directory of the child",
    schema: PathText,
    default: null,
    derivedDefault: "repoRoot",
  },
} as const satisfies Record<string, Setting>
