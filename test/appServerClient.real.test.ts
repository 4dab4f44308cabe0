/**
 * The AppServerClient against the real pinned `codex app-server`, fully offline: codex talks to a
 * loopback mock of the Responses API configured through a fresh CODEX_HOME per test.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { AppServerEvent } from "../src/domain/appServer/events.ts"
import { textInput } from "../src/domain/appServer/protocol.ts"
import { type ApprovalDecision, approvalAnswer } from "../src/domain/appServer/serverRequests.ts"
import type { AppServerError, UnknownThreadError } from "../src/services/appServer/appServerErrors.ts"
import { type CodexHome, makeCodexHome } from "./support/codexHome.ts"
import type { FakeSession } from "./support/fakePeer.ts"
import { type MockResponsesApi, startMockResponsesApi } from "./support/mockResponsesApi.ts"
import { startRealCodex } from "./support/realCodex.ts"

let mock: MockResponsesApi
let home: CodexHome
let workDir: string
const sessions: Array<FakeSession> = []

beforeEach(async () => {
  mock = await startMockResponsesApi()
  home = makeCodexHome(mock.baseUrl)
  workDir = mkdtempSync(join(tmpdir(), "codexd-work-"))
})
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.cleanup()))
  await mock.close()
  home.cleanup()
  rmSync(workDir, { recursive: true, force: true })
})

const codex = (options: Parameters<typeof startRealCodex>[2] = {}): FakeSession => {
  const session = startRealCodex(home, workDir, options)
  sessions.push(session)
  return session
}
type ClientError = AppServerError | UnknownThreadError
const run = <A>(effect: Effect.Effect<A, ClientError>) => Effect.runPromise(effect)
const failure = async <A>(effect: Effect.Effect<A, ClientError>): Promise<ClientError> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (reason?._tag !== "Fail") throw new Error(String(exit.cause))
  return reason.error
}

const ready = async (s: FakeSession, settings: { approvalPolicy?: "untrusted" | "never" } = {}) => {
  await run(s.client.initialize)
  const started = await run(
    s.client.threadStart({
      cwd: workDir,
      approvalPolicy: settings.approvalPolicy ?? "never",
      sandbox: "danger-full-access",
    }),
  )
  return started.thread.id
}

const turnCompleted = (s: FakeSession, turnId: string) =>
  s.waitFor((e) => e.type === "turn.completed" && e.turn.id === turnId) as Promise<
    Extract<AppServerEvent, { type: "turn.completed" }>
  >

describe("AppServerClient against the real codex (offline)", () => {
  it("handshakes and starts a thread", async () => {
    const s = codex()
    const info = await run(s.client.initialize)
    expect(info.userAgent).toContain("0.169.0")
    expect(info.codexHome).toBe(home.path)
    expect(info.platformFamily).toBe("unix")
    const started = await run(s.client.threadStart({ cwd: workDir }))
    expect(started.thread.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(started.model).toBe("mock-model")
    expect(started.modelProvider).toBe("mock")
    expect((await s.waitFor((e) => e.type === "thread.started")).type).toBe("thread.started")
  })

  it("streams agent-message deltas to a completed turn", async () => {
    const s = codex()
    const threadId = await ready(s)
    mock.enqueue({ kind: "text", deltas: ["Hello", ", ", "world", "."] })
    const { turn } = await run(s.client.turnStart({ threadId, input: [textInput("say hello")] }))
    const completed = await turnCompleted(s, turn.id)
    expect(completed.turn.status).toBe("completed")
    const deltas = s.events.filter((e) => e.type === "turn.message.delta" && e.turnId === turn.id)
    expect(deltas.map((e) => (e.type === "turn.message.delta" ? e.delta : "")).join("")).toBe("Hello, world.")
    expect(JSON.stringify(mock.requests[0]?.input)).toContain("say hello")
  })

  it("interrupts a turn mid-stream", async () => {
    const s = codex()
    const threadId = await ready(s)
    mock.enqueue({ kind: "hang", firstDelta: "Thinking" })
    const { turn } = await run(s.client.turnStart({ threadId, input: [textInput("take your time")] }))
    await s.waitFor((e) => e.type === "turn.message.delta" && e.turnId === turn.id)
    await run(s.client.turnInterrupt({ threadId, turnId: turn.id }))
    // After an interrupt the open agent message may never get item/completed; the turn still ends.
    expect((await turnCompleted(s, turn.id)).turn.status).toBe("interrupted")
  })

  it("steers the active turn, and refuses a steer for the wrong turn", async () => {
    const s = codex()
    const threadId = await ready(s)
    mock.enqueue({ kind: "hang", firstDelta: "Working" })
    const { turn } = await run(s.client.turnStart({ threadId, input: [textInput("start")] }))
    await s.waitFor((e) => e.type === "turn.message.delta" && e.turnId === turn.id)
    // A steer may make codex ask the model again: that answer hangs too, so the turn is still there
    // to interrupt however fast codex is.
    mock.enqueue({ kind: "hang", firstDelta: "Still working" })
    const steered = await run(
      s.client.turnSteer({ threadId, input: [textInput("also this")], expectedTurnId: turn.id }),
    )
    expect(steered.turnId).toBe(turn.id)
    const wrong = await failure(
      s.client.turnSteer({ threadId, input: [textInput("x")], expectedTurnId: "not-the-turn" }),
    )
    expect(wrong._tag).toBe("RpcError")
    await run(s.client.turnInterrupt({ threadId, turnId: turn.id }))
    await turnCompleted(s, turn.id)
  })

  const approvalCase = async (decision: ApprovalDecision) => {
    const asked: Array<string> = []
    const s = codex({
      onServerRequest: (request) =>
        Effect.sync(() => {
          asked.push(request.method)
          return approvalAnswer(decision)
        }),
    })
    const threadId = await ready(s, { approvalPolicy: "untrusted" })
    const marker = join(workDir, `approved-${decision}`)
    mock.enqueue(
      { kind: "exec", cmd: `touch ${marker} && echo touched` },
      { kind: "text", deltas: ["finished"] },
    )
    const { turn } = await run(s.client.turnStart({ threadId, input: [textInput("touch the file")] }))
    const completed = await turnCompleted(s, turn.id)
    expect(asked).toEqual(["item/commandExecution/requestApproval"])
    await s.waitFor((e) => e.type === "serverRequest.resolved")
    return { completed, ran: existsSync(marker) }
  }

  it("runs a command the handler accepted", async () => {
    const { completed, ran } = await approvalCase("accept")
    expect(completed.turn.status).toBe("completed")
    expect(ran).toBe(true)
    expect(JSON.stringify(mock.requests[1]?.input)).toContain("touched")
  })

  it("does not run a command the handler declined, and the turn goes on", async () => {
    const { completed, ran } = await approvalCase("decline")
    expect(ran).toBe(false)
    expect(completed.turn.status).toBe("completed")
  })

  it("ends the turn interrupted when the handler cancels", async () => {
    const { completed, ran } = await approvalCase("cancel")
    expect(ran).toBe(false)
    expect(completed.turn.status).toBe("interrupted")
  })

  it("reports a model HTTP 500 as an error notification, then a failed turn", async () => {
    const s = codex()
    const threadId = await ready(s)
    mock.enqueue({ kind: "httpError", status: 500 })
    const { turn } = await run(s.client.turnStart({ threadId, input: [textInput("fail please")] }))
    const completed = await turnCompleted(s, turn.id)
    expect(completed.turn.status).toBe("failed")
    const error = s.events.find((e) => e.type === "turn.error")
    expect(error).toMatchObject({ willRetry: false, turnId: turn.id })
    expect(completed.turn.error?.message).toBeTruthy()
  })

  it("resumes, in a new process with the same CODEX_HOME, a thread that completed a turn", async () => {
    const first = codex()
    const threadId = await ready(first)
    mock.enqueue({ kind: "text", deltas: ["remember me"] })
    const { turn } = await run(first.client.turnStart({ threadId, input: [textInput("first turn")] }))
    await turnCompleted(first, turn.id)
    await first.proc.stop(2_000)

    const second = codex()
    await run(second.client.initialize)
    const resumed = await run(second.client.threadResume({ threadId, excludeTurns: true }))
    expect(resumed.thread.id).toBe(threadId)
    const read = await run(second.client.threadRead({ threadId, includeTurns: true }))
    expect(read.thread.turns?.map((t) => t.id)).toContain(turn.id)
    mock.enqueue({ kind: "text", deltas: ["again"] })
    const next = await run(second.client.turnStart({ threadId, input: [textInput("second turn")] }))
    expect((await turnCompleted(second, next.turn.id)).turn.status).toBe("completed")
    // A thread that never completed a turn is unknown to a new process.
    const fresh = await run(second.client.threadStart({ cwd: workDir }))
    const third = codex()
    await run(third.client.initialize)
    const unknown = await failure(third.client.threadResume({ threadId: fresh.thread.id }))
    expect(unknown._tag).toBe("UnknownThreadError")
  })

  it("fails a pending request at once when the child is killed mid-turn", async () => {
    const s = codex()
    const threadId = await ready(s)
    mock.enqueue({ kind: "hang", firstDelta: "..." })
    const { turn } = await run(s.client.turnStart({ threadId, input: [textInput("long")] }))
    await s.waitFor((e) => e.type === "turn.message.delta" && e.turnId === turn.id)
    // Freeze the child so the next request is certainly pending when the kill lands.
    s.proc.signal("SIGSTOP")
    const pending = failure(s.client.threadRead({ threadId }))
    s.proc.signal("SIGKILL")
    const started = Date.now()
    const error = await pending
    // At once, not after the 30 s request timeout (the bound leaves room for a loaded machine).
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(error).toMatchObject({ _tag: "TransportClosedError", signal: "SIGKILL" })
    expect((await failure(s.client.threadList({})))._tag).toBe("TransportClosedError")
    expect(s.events.some((e) => e.type === "turn.completed")).toBe(false)
  })

  it("ends within moments when stdin closes mid-turn, without turn/completed", async () => {
    const s = codex()
    const threadId = await ready(s)
    mock.enqueue({ kind: "hang", firstDelta: "..." })
    const { turn } = await run(s.client.turnStart({ threadId, input: [textInput("long")] }))
    await s.waitFor((e) => e.type === "turn.message.delta" && e.turnId === turn.id)
    await run(s.client.close)
    const closed = await run(s.client.closed)
    expect(closed.exitCode).toBe(0)
    expect(s.events.some((e) => e.type === "turn.completed")).toBe(false)
  })
})
