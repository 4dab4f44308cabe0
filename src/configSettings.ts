/**
 * Every configurable value: its environment variable, its flag (every command takes it), the form a
 * valid value has, and what it does. Data only; `config.ts` resolves and validates.
 */

/** One configurable value: its env var, its flag, and what a valid value looks like. */
export interface Setting {
  readonly env: string
  readonly flag: string
  readonly form: string
  readonly describe: string
}

export const settings = {
  repoRoot: {
    env: "CODEXD_REPO_ROOT",
    flag: "repo-root",
    form: "a directory",
    describe: "project root; state and logs default to <repoRoot>/.codexd (default: current directory)",
  },
  stateRootDir: {
    env: "CODEXD_STATE_DIR",
    flag: "state-dir",
    form: "a directory path",
    describe: "state root (default: <repoRoot>/.codexd)",
  },
  logsRootDir: {
    env: "CODEXD_LOGS_DIR",
    flag: "logs-dir",
    form: "a directory path",
    describe: "logs root (default: <repoRoot>/.codexd)",
  },
  nodeId: {
    env: "CODEXD_NODE_ID",
    flag: "node-id",
    form: "a non-empty name",
    describe: "name of this node (default: host name)",
  },
  eventCacheSize: {
    env: "CODEXD_EVENT_CACHE_SIZE",
    flag: "event-cache-size",
    form: "a positive integer",
    describe: "recent events kept for replay (default: 1000)",
  },
  smokeLifetimeMs: {
    env: "CODEXD_SMOKE_LIFETIME_MS",
    flag: "smoke-lifetime-ms",
    form: "a positive integer (milliseconds)",
    describe: "longest a smoke check may take (default: 60000)",
  },
  runRetention: {
    env: "CODEXD_RUN_RETENTION",
    flag: "run-retention",
    form: "a non-negative integer",
    describe: "finished runs kept in the registry before older ones are archived (default: 1000)",
  },
  maxConcurrentRuns: {
    env: "CODEXD_MAX_CONCURRENT_RUNS",
    flag: "max-concurrent-runs",
    form: "a positive integer",
    describe: "turns running at once across all sessions (default: 4)",
  },
  runSilenceTimeoutMs: {
    env: "CODEXD_RUN_SILENCE_TIMEOUT_MS",
    flag: "run-silence-timeout-ms",
    form: "a positive integer (milliseconds)",
    describe:
      "a running turn with no event from codex for this long is interrupted as stalled (default: 600000)",
  },
  approvals: {
    env: "CODEXD_APPROVALS",
    flag: "approvals",
    form: "auto-accept, auto-decline or ask",
    describe: "how approvals are answered when a session does not say (default: ask)",
  },
  approvalTimeoutMs: {
    env: "CODEXD_APPROVAL_TIMEOUT_MS",
    flag: "approval-timeout-ms",
    form: "a positive integer (milliseconds)",
    describe: "an asked approval not answered within this is declined (default: 300000)",
  },
  localApiBase: {
    env: "CODEXD_API_BASE",
    flag: "api-base",
    form: "http://<loopback address>:<port> (127.0.0.1, [::1] or localhost; port 0 picks a free port)",
    describe: "where the local API listens (default: http://127.0.0.1:4319)",
  },
  eventStreamPath: {
    env: "CODEXD_EVENT_STREAM_PATH",
    flag: "event-stream-path",
    form: "an absolute URL path such as /v1/events",
    describe: "path of the Server-Sent Events stream (default: /v1/events)",
  },
  mode: {
    env: "CODEXD_SERVER_MODE",
    flag: "server-mode",
    form: "app-server or exec",
    describe: "how Codex is driven (default: app-server)",
  },
  childStrategy: {
    env: "CODEXD_CHILD_STRATEGY",
    flag: "child-strategy",
    form: "spawn or external",
    describe: "spawn a managed child, or attach to an external app-server (default: spawn)",
  },
  endpoint: {
    env: "CODEXD_SERVER_ENDPOINT",
    flag: "server-endpoint",
    form: "stdio:// with the spawn strategy, ws://<host>:<port> with the external strategy",
    describe: "where the app-server is reached (default: stdio://)",
  },
  serverTokenFile: {
    env: "CODEXD_SERVER_TOKEN_FILE",
    flag: "server-token-file",
    form: "a file path (the external strategy only)",
    describe:
      "file holding the capability token of an external app-server started with --ws-auth capability-token; required for a non-loopback endpoint",
  },
  childCommand: {
    env: "CODEXD_CHILD_COMMAND",
    flag: "child-command",
    form: "an executable file, or a command on PATH",
    describe: "the codex binary (default: the native binary of the pinned @openai/codex package)",
  },
  childArgs: {
    env: "CODEXD_CHILD_ARGS",
    flag: "child-args",
    form: 'a JSON array of strings, such as ["app-server"]',
    describe: 'arguments of the child (default: ["app-server"])',
  },
  protocolLog: {
    env: "CODEXD_PROTOCOL_LOG",
    flag: "protocol-log",
    form: "true or false",
    describe:
      "also write every raw protocol line to child.stdout.log; it holds prompts and output (default: false)",
  },
  childCwd: {
    env: "CODEXD_CHILD_CWD",
    flag: "child-cwd",
    form: "an existing directory",
    describe: "working directory of the child (default: repoRoot)",
  },
} as const satisfies Record<string, Setting>
