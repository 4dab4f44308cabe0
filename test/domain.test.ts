import { Result, Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ResolvedConfig } from "../src/domain/config.ts"
import { DaemonIdentity, DaemonState } from "../src/domain/daemon.ts"
import { decodeJsonText, formatPath } from "../src/domain/decode.ts"
import { RecentEventCacheState } from "../src/domain/event.ts"
import { newRunId, newSessionId, RunId, SessionId } from "../src/domain/ids.ts"
import { RunErrorCode, RunRecord, RunRegistryState } from "../src/domain/run.ts"
import { SessionRecord, SessionRegistryState } from "../src/domain/session.ts"
import { SmokeResult, StatusSnapshot } from "../src/domain/status.ts"
import { usageTotals } from "../src/domain/usage.ts"
import { configFor } from "./support/tempConfig.ts"

const timestamp = fc
  .date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true })
  .map((d) => d.toISOString())
const nullable = <A>(arb: fc.Arbitrary<A>) => fc.option(arb, { nil: null })
const stringRecord = fc.dictionary(fc.string(), fc.string(), { maxKeys: 4 })

const runRecord: fc.Arbitrary<RunRecord> = fc.record({
  runId: fc.constant(null).map(() => newRunId()),
  sessionId: nullable(fc.constant(null).map(() => newSessionId())),
  threadId: nullable(fc.uuid()),
  turnId: nullable(fc.uuid()),
  approvals: nullable(fc.constantFrom("auto-accept", "auto-decline", "ask")),
  status: fc.constantFrom("completed", "failed", "queued", "running"),
  adapter: fc.constantFrom("app-server", "exec"),
  prompt: fc.string(),
  purpose: nullable(fc.string()),
  cwd: nullable(fc.string()),
  createdAt: timestamp,
  updatedAt: timestamp,
  startedAt: nullable(timestamp),
  finishedAt: nullable(timestamp),
  error: nullable(fc.string()),
  errorCode: nullable(fc.constantFrom(...RunErrorCode.literals)),
  summary: nullable(fc.string()),
  metadata: stringRecord,
  result: nullable(
    fc.record({
      threadId: nullable(fc.uuid()),
      turnId: nullable(fc.uuid()),
      turnStatus: nullable(fc.constantFrom("completed", "failed", "interrupted")),
      finalMessage: nullable(fc.string()),
      diff: nullable(fc.string()),
      plan: nullable(fc.array(fc.record({ step: fc.string(), status: fc.string() }), { maxLength: 3 })),
      // Normalised through JSON: a JSON document cannot carry -0, so neither can a stored result.
      tokenUsage: nullable(
        fc.dictionary(
          fc.string(),
          fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown),
          {
            maxKeys: 3,
          },
        ),
      ),
      commands: fc.array(
        fc.record({
          itemId: fc.string(),
          command: fc.string(),
          exitCode: nullable(fc.integer()),
          status: nullable(fc.string()),
          outputTail: fc.string(),
        }),
        { maxLength: 3 },
      ),
      fileChanges: fc.array(fc.record({ path: fc.string(), kind: fc.string(), diff: fc.string() }), {
        maxLength: 3,
      }),
    }),
  ),
})

const sessionRecord: fc.Arbitrary<SessionRecord> = fc.record({
  sessionId: fc.constant(null).map(() => newSessionId()),
  purpose: fc.constantFrom("duplex", "smoke", "worker"),
  threadId: nullable(fc.uuid()),
  status: fc.constantFrom("active", "closed"),
  endpoint: fc.constant("stdio://"),
  childPid: nullable(fc.integer({ min: 1, max: 4_000_000 })),
  createdAt: timestamp,
  updatedAt: timestamp,
  cwd: nullable(fc.string()),
  model: nullable(fc.string()),
  modelProvider: nullable(fc.string()),
  serviceTier: nullable(fc.string()),
  reasoningEffort: nullable(fc.string()),
  approvalPolicy: nullable(fc.constantFrom("untrusted", "on-request", "never")),
  sandbox: nullable(fc.constantFrom("read-only", "workspace-write")),
  approvals: fc.constantFrom("auto-accept", "auto-decline", "ask"),
  currentTurnId: nullable(fc.string()),
  lastTurnId: nullable(fc.string()),
  lastTurnStatus: nullable(fc.string()),
  metadata: stringRecord,
})

/** Encode to JSON text the way the Store writes it, then decode it back. */
const roundTrip = <A>(schema: Schema.Codec<A, unknown>, value: A): A => {
  const text = JSON.stringify(Schema.encodeSync(schema)(value))
  const decoded = decodeJsonText(schema, "test")(text)
  if (Result.isFailure(decoded)) throw decoded.failure
  return decoded.success
}

const identity: DaemonIdentity = {
  daemonId: "daemon_1" as DaemonIdentity["daemonId"],
  nodeId: "host",
  repoRoot: "/srv/project",
  createdAt: "2026-01-01T00:00:00.000Z",
  version: "0.1.0",
}

const daemonState: DaemonState = {
  started: true,
  startedAt: "2026-01-01T00:00:00.000Z",
  stoppedAt: null,
  updatedAt: "2026-01-01T00:00:01.000Z",
  pid: 1234,
  apiBase: "http://127.0.0.1:4319",
  child: {
    strategy: "spawn",
    mode: "app-server",
    endpoint: "stdio://",
    status: "running",
    command: "/opt/codex",
    args: ["app-server"],
    cwd: "/srv/project",
    pid: 1235,
    startedAt: "2026-01-01T00:00:00.500Z",
    exitedAt: null,
    exitCode: null,
    signal: null,
    lastError: null,
    userAgent: "codex_cli_rs/0.169.0",
    restartCount: 0,
    machineState: "alive.running",
  },
}

describe("domain schemas", () => {
  it("encodes the registries and the event cache as the values themselves, so the Store may write them with plain JSON", () => {
    const event = fc.record({
      seq: fc.integer({ min: 1 }),
      createdAt: timestamp,
      level: fc.constantFrom("info" as const, "warn" as const, "error" as const),
      type: fc.string(),
      message: fc.string(),
      detail: nullable(stringRecord),
    })
    fc.assert(
      fc.property(
        fc.array(runRecord, { maxLength: 5 }),
        fc.array(sessionRecord, { maxLength: 5 }),
        fc.array(event, { maxLength: 5 }),
        (runs, sessions, events) => {
          const registry = { updatedAt: null, runs }
          expect(Schema.encodeSync(RunRegistryState)(registry)).toEqual(registry)
          const sessionRegistry = { updatedAt: null, sessions }
          expect(Schema.encodeSync(SessionRegistryState)(sessionRegistry)).toEqual(sessionRegistry)
          const cache = { maxEntries: 10, updatedAt: null, lastSeq: 0, events }
          expect(Schema.encodeSync(RecentEventCacheState)(cache)).toEqual(cache)
        },
      ),
    )
  })

  it("round-trips run and session records through JSON", () => {
    fc.assert(
      fc.property(runRecord, (run) => {
        expect(roundTrip(RunRecord, run)).toEqual(run)
      }),
    )
    fc.assert(
      fc.property(sessionRecord, (session) => {
        expect(roundTrip(SessionRecord, session)).toEqual(session)
      }),
    )
  })

  it("round-trips registries, the event cache, the status snapshot and the smoke result", () => {
    fc.assert(
      fc.property(
        fc.array(runRecord, { maxLength: 5 }),
        fc.array(sessionRecord, { maxLength: 5 }),
        (runs, sessions) => {
          const runRegistry = { updatedAt: "2026-01-01T00:00:00.000Z", runs }
          const sessionRegistry = { updatedAt: null, sessions }
          expect(roundTrip(RunRegistryState, runRegistry)).toEqual(runRegistry)
          expect(roundTrip(SessionRegistryState, sessionRegistry)).toEqual(sessionRegistry)
        },
      ),
    )
    const recentEvents: RecentEventCacheState = {
      maxEntries: 10,
      updatedAt: null,
      lastSeq: 7,
      events: [
        {
          seq: 7,
          createdAt: "2026-01-01T00:00:00.000Z",
          level: "warn",
          type: "t",
          message: "m",
          detail: { a: [1] },
        },
      ],
    }
    const snapshot: StatusSnapshot = {
      config: configFor("/srv/project"),
      identity,
      daemon: daemonState,
      sessionRegistry: { updatedAt: null, sessions: [] },
      runRegistry: { updatedAt: null, runs: [] },
      recentEvents,
      usage: { tokens: 0, sessions: {} },
    }
    expect(roundTrip(StatusSnapshot, snapshot)).toEqual(snapshot)
    const smoke: SmokeResult = { checks: [{ name: "config", status: "ok", detail: "valid" }], snapshot }
    expect(roundTrip(SmokeResult, smoke)).toEqual(smoke)
    expect(roundTrip(ResolvedConfig, snapshot.config)).toEqual(snapshot.config)
  })

  it("adds up tokens per session and for the daemon, from each run's turn", () => {
    const [a, b, c] = fc.sample(runRecord, 3) as [RunRecord, RunRecord, RunRecord]
    const used = (run: RunRecord, sessionId: string, last: number | null): RunRecord => ({
      ...run,
      sessionId: sessionId as RunRecord["sessionId"],
      result: {
        threadId: null,
        turnId: null,
        turnStatus: "completed",
        finalMessage: null,
        diff: null,
        plan: null,
        tokenUsage: last === null ? null : { last: { totalTokens: last }, total: { totalTokens: 999 } },
        commands: [],
        fileChanges: [],
      },
    })
    expect(usageTotals([used(a, "s1", 10), used(b, "s1", 5), used(c, "s2", null)])).toEqual({
      tokens: 15,
      sessions: { s1: 15 },
    })
  })

  it("reads a daemon state written before the child's userAgent was recorded", () => {
    const { userAgent: _, ...olderChild } = daemonState.child
    const decoded = Schema.decodeUnknownSync(DaemonState)({ ...daemonState, child: olderChild })
    expect(decoded.child.userAgent).toBeNull()
    expect(Schema.encodeSync(DaemonState)(daemonState).child.userAgent).toBe("codex_cli_rs/0.169.0")
  })

  it("names the path of the first bad field", () => {
    const registry = { updatedAt: null, runs: [{ ...fc.sample(runRecord, 1)[0], status: "exploded" }] }
    const decoded = decodeJsonText(RunRegistryState, "runs.json")(JSON.stringify(registry))
    expect(Result.isFailure(decoded)).toBe(true)
    if (Result.isFailure(decoded)) {
      expect(decoded.failure._tag).toBe("DecodeError")
      expect(decoded.failure.path).toBe("runs[0].status")
      expect(decoded.failure.message).toMatch(/^runs\.json: runs\[0\]\.status: Expected/)
    }
  })

  it("reports a missing field, a bad timestamp and bad JSON", () => {
    const { pid: _pid, ...withoutPid } = daemonState
    const missing = decodeJsonText(DaemonState, "daemon.json")(JSON.stringify(withoutPid))
    expect(Result.isFailure(missing) && missing.failure.path).toBe("pid")

    const badTime = decodeJsonText(
      DaemonIdentity,
      "identity.json",
    )(JSON.stringify({ ...identity, createdAt: "yesterday" }))
    expect(Result.isFailure(badTime) && badTime.failure.path).toBe("createdAt")

    const notJson = decodeJsonText(DaemonIdentity, "identity.json")("{not json")
    expect(Result.isFailure(notJson) && notJson.failure.message).toMatch(/^identity\.json: not valid JSON/)
  })

  it("brands ids and refuses empty ones", () => {
    expect(newRunId()).toMatch(/^run_[0-9a-f]{32}$/)
    expect(newSessionId()).toMatch(/^session_[0-9a-f]{32}$/)
    expect(Result.isFailure(Schema.decodeUnknownResult(RunId)(""))).toBe(true)
    expect(Result.isSuccess(Schema.decodeUnknownResult(SessionId)("session_x"))).toBe(true)
  })

  it("formats paths", () => {
    expect(formatPath(["runs", 3, "status"])).toBe("runs[3].status")
    expect(formatPath([])).toBe("")
  })
})
