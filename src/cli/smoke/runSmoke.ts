/**
 * `codexd smoke`: prove the whole path works, one check at a time, each reported as it finishes:
 * the configuration, the state directory, the child and its handshake, a smoke session, one real turn,
 * the event stream that carried them, and the state files they left. A check that cannot run because
 * an earlier one failed fails too, saying which; the smoke never stops half-way without a verdict.
 */
import { randomBytes } from "node:crypto"
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs"
import { join } from "node:path"
import type * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { type ApiConnection, errorMessage, readFrames } from "../../client/apiConnection.ts"
import type { ResolvedConfig } from "../../domain/config.ts"
import { decodeValue } from "../../domain/decode.ts"
import type { RecentEvent } from "../../domain/event.ts"
import { type SmokeCheck, type SmokeResult, StatusSnapshot } from "../../domain/status.ts"
import { readStatus } from "../../services/status/statusSnapshot.ts"
import { smokeDaemon } from "./smokeDaemon.ts"
import { retryNote, turnFailureHint } from "./turnFailureHint.ts"

/** Small, cheap, and with one right answer: a model that answers at all answers this. */
const SMOKE_PROMPT = "This is a connectivity check. Reply with the single word: ok"

type Verdict = Omit<SmokeCheck, "name">
const ok = (detail: string): Verdict => ({ status: "ok", detail })
const failed = (detail: string): Verdict => ({ status: "failed", detail })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const describeConfig = (config: ResolvedConfig): string => {
  const { server } = config
  const target = server.childStrategy === "external" ? server.endpoint : server.childCommand
  return `${server.mode} via ${server.childStrategy} (${target}), state ${config.paths.stateDir}`
}

const stateDirWritable = (config: ResolvedConfig): Verdict => {
  const probe = join(config.paths.stateDir, `.smoke-${process.pid}-${randomBytes(4).toString("hex")}`)
  try {
    mkdirSync(config.paths.stateDir, { recursive: true })
    const fd = openSync(probe, "wx", 0o600)
    try {
      writeSync(fd, "smoke")
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    if (readFileSync(probe, "utf8") !== "smoke") return failed(`${probe} did not read back what was written`)
    return ok(`${config.paths.stateDir} (created, synced and removed a file)`)
  } catch (error) {
    return failed(`${config.paths.stateDir}: ${(error as Error).message}`)
  } finally {
    rmSync(probe, { force: true })
  }
}

/** Collects the event stream's frames in the background from the moment it is connected. */
const watchStream = async (api: ApiConnection) => {
  const frames: Array<RecentEvent> = []
  const response = await api.stream("")
  if (response.status !== 200) throw new Error(`the event stream answered HTTP ${response.status}`)
  let open = true
  const reading = readFrames(response, ({ data }) => {
    if (data !== null && typeof data === "object" && "seq" in data) frames.push(data as RecentEvent)
    return open
  }).catch(() => undefined)
  return {
    frames,
    close: async () => {
      open = false
      await Promise.race([reading, sleep(200)])
    },
  }
}

interface SmokeRunOutcome {
  readonly sessionId: string | null
  readonly runId: string | null
  /** The run completed or failed within the lifetime (else its end cannot be asked of the stream). */
  readonly runEnded: boolean
}

/** The snapshot of a `GET /v1/status` answer, decoded; null when the daemon did not give one. */
const snapshotOfAnswer = (answer: { readonly status: number; readonly json: unknown }) =>
  answer.status === 200 ? Result.getOrNull(decodeValue(StatusSnapshot, "GET /v1/status")(answer.json)) : null

export const runSmoke = async (
  config: ResolvedConfig,
  report: (check: SmokeCheck) => void,
  run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>,
): Promise<SmokeResult> => {
  const deadline = Date.now() + config.smokeLifetimeMs
  const remaining = () => Math.max(0, deadline - Date.now())
  const checks: Array<SmokeCheck> = []
  const record = (name: string, verdict: Verdict) => {
    const check = { name, ...verdict }
    checks.push(check)
    report(check)
  }
  const skipAll = (names: ReadonlyArray<string>, reason: string) => {
    for (const name of names) record(name, failed(`not checked: ${reason}`))
  }

  record("config", ok(describeConfig(config)))
  const writable = stateDirWritable(config)
  record("state-dir", writable)

  const daemonNeeded = ["child", "initialize", "session", "turn", "event-stream"] as const
  let snapshotWhileRunning: StatusSnapshot | null = null
  if (writable.status === "failed") skipAll(daemonNeeded, "the state directory is not writable")
  else {
    const daemon = await smokeDaemon(config, deadline)
    if ("failed" in daemon) {
      record("child", failed(daemon.failed))
      skipAll(daemonNeeded.slice(1), "no daemon could be started")
    } else {
      try {
        snapshotWhileRunning = await checkThroughApi(daemon.api, daemon.startedHere, remaining, record)
      } catch (error) {
        // The daemon stopped answering mid-smoke (stopped, crashed): what was not checked failed.
        const done = new Set(checks.map((c) => c.name))
        skipAll(
          daemonNeeded.filter((name) => !done.has(name)),
          `the daemon stopped answering (${(error as Error).message})`,
        )
      } finally {
        await daemon.stop()
      }
    }
  }

  const reading = await run(readStatus(config))
  if (reading.snapshot === null) record("state-files", failed("no daemon state was ever written"))
  else if (reading.corruptFiles.length > 0)
    record(
      "state-files",
      failed(reading.corruptFiles.map((c) => `${c.path} is corrupt: ${c.reason}`).join("; ")),
    )
  else
    record(
      "state-files",
      ok(
        `identity, daemon state, ${reading.snapshot.sessionRegistry.sessions.length} sessions, ${reading.snapshot.runRegistry.runs.length} runs, ${reading.snapshot.recentEvents.events.length} cached events decode`,
      ),
    )
  return { checks, snapshot: snapshotWhileRunning ?? reading.snapshot }
}

const checkThroughApi = async (
  api: ApiConnection,
  startedHere: boolean,
  remaining: () => number,
  record: (name: string, verdict: Verdict) => void,
): Promise<StatusSnapshot | null> => {
  const status = await api.call("GET", "/v1/status")
  const snapshot = snapshotOfAnswer(status)
  const child = snapshot?.daemon.child
  const whose = startedHere
    ? "a daemon started for the smoke"
    : `the running daemon (pid ${snapshot?.daemon.pid})`
  if (child === undefined) {
    record("child", failed(`GET /v1/status: ${errorMessage(status)}`))
    for (const name of ["initialize", "session", "turn", "event-stream"])
      record(name, failed("not checked: the daemon's status could not be read"))
    return null
  }
  record("child", childVerdict(child, whose))
  // A child that answers but cannot reach its model fails every turn: said here, in words to act on.
  const login = child.mode === "exec" ? null : await api.call("GET", "/v1/codex/login").catch(() => null)
  const notLoggedIn =
    login?.status === 200 && login.json.loggedIn === false
      ? String(login.json.hint ?? "codex is not logged in")
      : null
  record(
    "initialize",
    notLoggedIn !== null
      ? failed(`answered by ${child.userAgent ?? "codex"}, but ${notLoggedIn}`)
      : child.userAgent === null
        ? failed(
            child.mode === "exec"
              ? "codex did not answer its version probe"
              : "the child has not answered initialize",
          )
        : ok(
            child.mode === "exec"
              ? `codex exec can run: ${child.userAgent}`
              : `answered by ${child.userAgent}`,
          ),
  )

  const stream = await watchStream(api).catch((error: Error) => error)
  const outcome = await smokeTurn(api, remaining, record, stream instanceof Error ? [] : stream.frames)
  if (stream instanceof Error) record("event-stream", failed(stream.message))
  else {
    // The terminal event may still be on its way to us: give it a moment (within the lifetime).
    const runEnd = (e: RecentEvent) =>
      outcome.runEnded ? e.type === "run.completed" || e.type === "run.failed" : e.type === "run.queued"
    const delivered = () =>
      stream.frames.some((e) => e.type === "session.created" && e.detail?.sessionId === outcome.sessionId) &&
      stream.frames.some((e) => runEnd(e) && e.detail?.runId === outcome.runId)
    for (const until = Date.now() + Math.min(5_000, remaining()); !delivered() && Date.now() < until; )
      await sleep(25)
    await stream.close()
    const mine = stream.frames.filter(
      (e) => e.detail?.sessionId === outcome.sessionId || e.detail?.runId === outcome.runId,
    )
    record(
      "event-stream",
      outcome.sessionId === null
        ? failed("not checked: no smoke session was created")
        : delivered()
          ? ok(`${mine.length} smoke events, seq ${mine[0]?.seq}..${mine.at(-1)?.seq}`)
          : failed(
              `the stream carried ${mine.length} smoke events but not the session's creation${outcome.runId === null ? "" : outcome.runEnded ? " and the run's end" : " and the run"}`,
            ),
    )
  }
  const after = await api.call("GET", "/v1/status")
  return snapshotOfAnswer(after) ?? snapshot
}

/** The child check: a spawned child running, an external server attached, or exec mode's binary. */
const childVerdict = (child: StatusSnapshot["daemon"]["child"], whose: string): Verdict => {
  if (child.mode === "exec")
    return child.lastError === null
      ? ok(`exec mode: no long-lived child, one codex exec per run under ${whose}`)
      : failed(`exec mode: ${child.lastError}`)
  if (child.status === "external")
    return child.machineState === "external.link.connected"
      ? ok(`attached to ${child.endpoint} by ${whose}`)
      : failed(
          `${child.endpoint} not reachable (${child.machineState})${child.lastError ? `: ${child.lastError}` : ""}`,
        )
  return child.status === "running"
    ? ok(`pid ${child.pid} (${child.machineState}) under ${whose}, ${child.restartCount} restarts`)
    : failed(`${child.status}${child.lastError ? `: ${child.lastError}` : ""}`)
}

/** A smoke session, one turn in it, and the session closed again. */
const smokeTurn = async (
  api: ApiConnection,
  remaining: () => number,
  record: (name: string, verdict: Verdict) => void,
  streamed: ReadonlyArray<RecentEvent>,
): Promise<SmokeRunOutcome> => {
  const created = await api.call("POST", "/v1/sessions", {
    purpose: "smoke",
    // Nothing a smoke asks for needs to touch the machine: read-only, and no approval is ever granted.
    sandbox: "read-only",
    approvals: "auto-decline",
    metadata: { smoke: "true" },
  })
  if (created.status !== 201) {
    record("session", failed(`POST /v1/sessions: ${errorMessage(created)}`))
    record("turn", failed("not checked: no smoke session"))
    return { sessionId: null, runId: null, runEnded: false }
  }
  const sessionId = String(created.json.sessionId)
  const threadId = created.json.threadId
  // Exec mode: the session's thread is started by its first run.
  record(
    "session",
    ok(
      `${sessionId} ${threadId == null ? "(its thread starts with its first run)" : `on thread ${String(threadId)}`}`,
    ),
  )
  try {
    const submitted = await api.call("POST", "/v1/runs", { prompt: SMOKE_PROMPT, sessionId })
    if (submitted.status !== 202) {
      record("turn", failed(`POST /v1/runs: ${errorMessage(submitted)}`))
      return { sessionId, runId: null, runEnded: false }
    }
    const runId = String(submitted.json.runId)
    const verdict = await awaitTurn(api, runId, remaining, streamed)
    record("turn", verdict.verdict)
    return { sessionId, runId, runEnded: verdict.ended }
  } finally {
    await api.call("POST", `/v1/sessions/${encodeURIComponent(sessionId)}/close`).catch(() => undefined)
  }
}

/** Polls the run (not the stream: the stream is what another check judges) until it ends. */
const awaitTurn = async (
  api: ApiConnection,
  runId: string,
  remaining: () => number,
  streamed: ReadonlyArray<RecentEvent>,
): Promise<{ readonly verdict: Verdict; readonly ended: boolean }> => {
  const path = `/v1/runs/${encodeURIComponent(runId)}`
  const startedAt = Date.now()
  for (;;) {
    const run = (await api.call("GET", path)).json
    if (run.status === "completed") {
      const answer = String(
        (run.result as { finalMessage?: unknown } | null)?.finalMessage ?? run.summary ?? "",
      )
      const detail = `${runId} completed in ${Date.now() - startedAt} ms: ${JSON.stringify(answer.slice(0, 80))}`
      return { verdict: ok(detail), ended: true }
    }
    if (run.status === "failed") {
      const info = (run.result as { codexErrorInfo?: unknown } | null)?.codexErrorInfo
      const hint = turnFailureHint(info)
      const detail = `${runId} failed: ${String(run.error ?? run.summary)}${hint === null ? "" : `; ${hint}`}`
      return { verdict: failed(detail), ended: true }
    }
    if (remaining() === 0) {
      await api.call("POST", `${path}/interrupt`).catch(() => undefined)
      const detail = `${runId} was still ${String(run.status)} when the smoke's lifetime ended (smokeLifetimeMs)`
      return { verdict: failed(`${detail}${retryNote(streamed, runId)}`), ended: false }
    }
    await sleep(Math.min(100, remaining()))
  }
}
