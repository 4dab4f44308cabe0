/**
 * The typed client for programs: every call of the local API as a method that resolves to the
 * domain record, decoded with the same schemas the daemon answers with, or rejects with one of the
 * tagged errors of `clientErrors.ts`. Promises, so plain TypeScript and JavaScript can use it.
 *
 * `connect()` finds the daemon as the CLI does (the state directory's lock, address and token); the
 * CLI's own client commands go through the same connection and the same run follower.
 */
import * as Result from "effect/Result"
import type * as Schema from "effect/Schema"
import { resolveConfig } from "../config.ts"
import { configInputFromProcess } from "../configInputFromProcess.ts"
import { ApprovalList, RestartAnswer, RunList, SessionList } from "../domain/apiAnswers.ts"
import type { CreateRunBody, CreateSessionBody } from "../domain/apiBodies.ts"
import { type ApprovalDecision, ApprovalRecord } from "../domain/approval.ts"
import { decodeValue } from "../domain/decode.ts"
import { RecentEvent } from "../domain/event.ts"
import { RunRecord } from "../domain/run.ts"
import { SessionRecord } from "../domain/session.ts"
import { StatusSnapshot } from "../domain/status.ts"
import type { ReviewTarget } from "../domain/threadOperations.ts"
import { type ApiConnection, apiAt, connectApi, DaemonUnreachable, sseFrames } from "./apiConnection.ts"
import { DaemonError, DaemonNotRunningError, errorOfReply } from "./clientErrors.ts"
import { followRun } from "./followRun.ts"

export interface ConnectOptions {
  /** The state directory's root, as `--state-dir` / CODEXD_STATE_DIR (default: found from `cwd`). */
  readonly stateDir?: string
  /** The daemon's address, with `token`: no lookup in the state directory at all. */
  readonly apiBase?: string
  readonly token?: string
  /** Where the project is looked for (default: the process's cwd). */
  readonly cwd?: string
}

/** A run's options: its session, working directory, approvals, metadata and what it asks of codex. */
export type RunOptions = Omit<typeof CreateRunBody.Encoded, "prompt">
export type SessionOptions = typeof CreateSessionBody.Encoded

/** What `runStreamed` yields: the run queued first, its end last, and what it did in between. */
export type RunStreamEvent =
  | { readonly type: "run.queued"; readonly run: RunRecord }
  | { readonly type: "message.delta"; readonly text: string; readonly event: RecentEvent }
  | { readonly type: "command.started"; readonly command: string; readonly event: RecentEvent }
  | {
      readonly type: "command.completed"
      readonly command: string
      readonly exitCode: number | null
      readonly outputTail: string
      readonly event: RecentEvent
    }
  | { readonly type: "approval.requested"; readonly approvalId: string; readonly event: RecentEvent }
  | { readonly type: "event"; readonly event: RecentEvent }
  | { readonly type: "run.ended"; readonly run: RunRecord }

export interface EventsOptions {
  /** Replay from after this seq (default 0: whatever the recent-events cache holds). */
  readonly since?: number
  readonly runId?: string
  readonly sessionId?: string
}

const streamEventOf = (event: RecentEvent): RunStreamEvent => {
  const detail = event.detail ?? {}
  const text = (value: unknown) => (typeof value === "string" ? value : "")
  switch (event.type) {
    case "run.message.delta":
      return { type: "message.delta", text: text(detail.delta), event }
    case "run.command.started":
      return { type: "command.started", command: text(detail.command), event }
    case "run.command.completed":
      return {
        type: "command.completed",
        command: text(detail.command),
        exitCode: typeof detail.exitCode === "number" ? detail.exitCode : null,
        outputTail: text(detail.outputTail),
        event,
      }
    case "approval.requested":
      return { type: "approval.requested", approvalId: text(detail.approvalId), event }
    default:
      return { type: "event", event }
  }
}

const path = (...parts: ReadonlyArray<string>) => parts.map(encodeURIComponent).join("/")

export class CodexdClient {
  private readonly api: ApiConnection

  private constructor(api: ApiConnection) {
    this.api = api
  }

  /** The address of the daemon this client talks to. */
  get apiBase(): string {
    return this.api.base
  }

  /** A client of the running daemon; rejects with `DaemonNotRunningError` when there is none. */
  static async connect(options: ConnectOptions = {}): Promise<CodexdClient> {
    if (options.apiBase !== undefined && options.token !== undefined)
      return new CodexdClient(apiAt(options.apiBase, options.token))
    const input = configInputFromProcess(
      options.stateDir === undefined ? {} : { stateRootDir: options.stateDir },
    )
    const resolved = resolveConfig(options.cwd === undefined ? input : { ...input, cwd: options.cwd })
    if (Result.isFailure(resolved)) throw new DaemonNotRunningError({ message: resolved.failure.message })
    const api = connectApi(resolved.success)
    if ("noDaemon" in api) throw new DaemonNotRunningError({ message: api.noDaemon })
    return new CodexdClient(options.token === undefined ? api : apiAt(api.base, options.token))
  }

  /** For the CLI, which has found its daemon already. */
  static over(api: ApiConnection): CodexdClient {
    return new CodexdClient(api)
  }

  private async call<A>(
    method: "GET" | "POST",
    route: string,
    schema: Schema.ConstraintDecoder<A>,
    body?: unknown,
  ): Promise<A> {
    let reply: Awaited<ReturnType<ApiConnection["call"]>>
    try {
      reply = await this.api.call(method, route, body)
    } catch (error) {
      if (error instanceof DaemonUnreachable) throw new DaemonNotRunningError({ message: error.message })
      throw new DaemonError({
        message: `${method} ${route}: ${String(error)}`,
        status: 0,
        code: "bad-answer",
      })
    }
    if (reply.status >= 400) throw errorOfReply(reply.status, reply.json)
    const decoded = decodeValue(schema, `the answer to ${method} ${route}`)(reply.json)
    if (Result.isFailure(decoded))
      throw new DaemonError({ message: decoded.failure.message, status: reply.status, code: "bad-answer" })
    return decoded.success
  }

  /** The daemon's status snapshot: child, registries, recent events. */
  status(): Promise<StatusSnapshot> {
    return this.call("GET", "/v1/status", StatusSnapshot)
  }

  /** Restart the app-server child (a running one is stopped gracefully, a new one started). */
  restartChild(): Promise<typeof RestartAnswer.Type> {
    return this.call("POST", "/v1/child/restart", RestartAnswer)
  }

  /** Queue a run; resolves once it is durable, with its record (`queued`). */
  submit(prompt: string, options: RunOptions = {}): Promise<RunRecord> {
    return this.call("POST", "/v1/runs", RunRecord, { ...options, prompt })
  }

  /** Run a prompt to its end; resolves with the finished record (`completed` or `failed`). */
  async run(prompt: string, options: RunOptions = {}): Promise<RunRecord> {
    let last: RunRecord | null = null
    for await (const event of this.runStreamed(prompt, options))
      if (event.type === "run.ended") last = event.run
    return last as RunRecord
  }

  /** Run a prompt and see it happen: `run.queued`, then deltas, commands, approvals, then `run.ended`. */
  async *runStreamed(prompt: string, options: RunOptions = {}): AsyncGenerator<RunStreamEvent, void> {
    const queued = await this.submit(prompt, options)
    yield { type: "run.queued", run: queued }
    const run = yield* this.follow(queued.runId)
    yield { type: "run.ended", run }
  }

  /** Follow a run already submitted; returns its final record. */
  async *follow(runId: string): AsyncGenerator<RunStreamEvent, RunRecord> {
    try {
      const events = followRun(this.api, runId)
      for (;;) {
        const next = await events.next()
        if (next.done === true) return next.value
        yield streamEventOf(next.value)
      }
    } catch (error) {
      if (error instanceof DaemonUnreachable) throw new DaemonNotRunningError({ message: error.message })
      throw error
    }
  }

  readonly sessions = {
    create: (options: SessionOptions = {}): Promise<SessionRecord> =>
      this.call("POST", "/v1/sessions", SessionRecord, options),
    list: async (): Promise<ReadonlyArray<SessionRecord>> =>
      (await this.call("GET", "/v1/sessions", SessionList)).sessions,
    get: (sessionId: string): Promise<SessionRecord> =>
      this.call("GET", `/v1/sessions/${path(sessionId)}`, SessionRecord),
    close: (sessionId: string): Promise<SessionRecord> =>
      this.call("POST", `/v1/sessions/${path(sessionId)}/close`, SessionRecord),
    /** A new session on a fork of the session's thread, through `runId`'s turn (default: all of it). */
    fork: (sessionId: string, options: { readonly runId?: string } = {}): Promise<SessionRecord> =>
      this.call("POST", `/v1/sessions/${path(sessionId)}/fork`, SessionRecord, options),
    /** The session's thread back to before `runId`'s turn (history only; files are not touched). */
    revert: (sessionId: string, runId: string): Promise<SessionRecord> =>
      this.call("POST", `/v1/sessions/${path(sessionId)}/revert`, SessionRecord, { runId }),
    /** Queue a compaction of the session's thread; the run it is (follow it to its end). */
    compact: (sessionId: string): Promise<RunRecord> =>
      this.call("POST", `/v1/sessions/${path(sessionId)}/compact`, RunRecord),
    /** Queue a review; the run it is, whose `result.review` holds the review once it ends. */
    review: (sessionId: string, target: ReviewTarget): Promise<RunRecord> =>
      this.call("POST", `/v1/sessions/${path(sessionId)}/review`, RunRecord, { target }),
  }

  readonly runs = {
    get: (runId: string): Promise<RunRecord> => this.call("GET", `/v1/runs/${path(runId)}`, RunRecord),
    list: async (): Promise<ReadonlyArray<RunRecord>> => (await this.call("GET", "/v1/runs", RunList)).runs,
    interrupt: (runId: string): Promise<RunRecord> =>
      this.call("POST", `/v1/runs/${path(runId)}/interrupt`, RunRecord),
    /** Steer a running run's turn, or edit a queued run's prompt. */
    steer: (runId: string, text: string): Promise<RunRecord> =>
      this.call("POST", `/v1/runs/${path(runId)}/steer`, RunRecord, { text }),
  }

  readonly approvals = {
    list: async (): Promise<ReadonlyArray<ApprovalRecord>> =>
      (await this.call("GET", "/v1/approvals", ApprovalList)).approvals,
    answer: (approvalId: string, decision: ApprovalDecision): Promise<ApprovalRecord> =>
      this.call("POST", `/v1/approvals/${path(approvalId)}`, ApprovalRecord, { decision }),
  }

  /**
   * The recent events after `since`, then live ones as they happen, until the consumer stops (a
   * `break`) or the daemon does. A `reset` (events older than the cache asked for) is not an event
   * and is passed over: `seq` tells what was missed.
   */
  async *events(options: EventsOptions = {}): AsyncGenerator<RecentEvent, void> {
    const query = new URLSearchParams({ since: String(options.since ?? 0) })
    if (options.runId !== undefined) query.set("runId", options.runId)
    if (options.sessionId !== undefined) query.set("sessionId", options.sessionId)
    const res = await this.api.stream(`?${query}`).catch((error: unknown) => {
      throw new DaemonNotRunningError({ message: error instanceof Error ? error.message : String(error) })
    })
    if (res.status >= 400) throw errorOfReply(res.status, (await res.json().catch(() => ({}))) as never)
    try {
      for await (const { data } of sseFrames(res)) {
        const decoded = decodeValue(RecentEvent, "an event")(data)
        if (Result.isSuccess(decoded)) yield decoded.success
      }
    } catch (error) {
      // The stream ends with the daemon; a broken one is the daemon gone.
      if (!(error instanceof DaemonUnreachable)) throw error
    }
  }
}
