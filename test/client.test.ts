/** CodexdClient against a real daemon process supervising the fake peer (codex-like mode). */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  CodexdClient,
  ConflictError,
  DaemonNotRunningError,
  InvalidRequestError,
  NotFoundError,
  type RunStreamEvent,
  UnauthorizedError,
} from "../src/client/index.ts"
import { type DaemonProcess, startDaemonProcess } from "./support/daemonProcess.ts"
import { fakeAppServerPath } from "./support/fakePeer.ts"
import { makeTempDir } from "./support/tempConfig.ts"

let daemon: DaemonProcess
let codexd: CodexdClient
const temp = makeTempDir("codexd-client-")
const env = {
  CODEXD_CHILD_COMMAND: process.execPath,
  CODEXD_CHILD_ARGS: JSON.stringify([fakeAppServerPath, "--script-dir", temp.path]),
  CODEXD_APPROVALS: "ask",
}

beforeAll(async () => {
  writeFileSync(join(temp.path, "script.json"), JSON.stringify({ simulate: true }))
  daemon = startDaemonProcess([], env, temp.path)
  await daemon.waitForOutput(/codexd ready: .* api http/)
  // Found as the CLI finds it: from the project directory.
  codexd = await CodexdClient.connect({ cwd: temp.path })
}, 60_000)

afterAll(async () => {
  await daemon?.stop()
  temp.cleanup()
})

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a failure")
    },
    (error: unknown) => error,
  )

/** What a generator returns once it is done (a followed run's final record). */
const lastOf = async <A, R>(generator: AsyncGenerator<A, R>): Promise<R> => {
  for (;;) {
    const next = await generator.next()
    if (next.done === true) return next.value
  }
}

describe("CodexdClient", () => {
  it("runs a prompt to its end, and streams one: queued, the deltas, then the end", async () => {
    const done = await codexd.run("hello there")
    expect(done).toMatchObject({ status: "completed", result: { finalMessage: "echo: hello there" } })

    const seen: Array<RunStreamEvent> = []
    for await (const event of codexd.runStreamed("deltas 50")) seen.push(event)
    expect(seen[0]?.type).toBe("run.queued")
    const last = seen.at(-1)
    expect(last?.type).toBe("run.ended")
    const deltas = seen.flatMap((e) => (e.type === "message.delta" ? [e.text] : []))
    expect(deltas).toHaveLength(50)
    if (last?.type !== "run.ended") throw new Error("no end")
    expect(last.run.result?.finalMessage).toBe(deltas.join(""))
    // The end is the last thing seen: no delta after it.
    expect(seen.findIndex((e) => e.type === "run.ended")).toBe(seen.length - 1)

    const failed = await codexd.run("fail")
    expect(failed).toMatchObject({ status: "failed", errorCode: "turn-failed" })
  })

  it("keeps sessions: create, list, get, close; a closed one takes no runs", async () => {
    const session = await codexd.sessions.create({ approvals: "auto-accept", metadata: { team: "a" } })
    expect(session).toMatchObject({ status: "active", approvals: "auto-accept", metadata: { team: "a" } })
    expect(session.threadId).not.toBeNull()
    const run = await codexd.run("in a session", { sessionId: session.sessionId })
    expect(run.sessionId).toBe(session.sessionId)
    expect((await codexd.sessions.get(session.sessionId)).lastTurnStatus).toBe("completed")
    expect((await codexd.sessions.list()).map((s) => s.sessionId)).toContain(session.sessionId)
    expect((await codexd.sessions.close(session.sessionId)).status).toBe("closed")
    const refused = await failure(codexd.submit("too late", { sessionId: session.sessionId }))
    expect(refused).toBeInstanceOf(ConflictError)
  })

  it("interrupts and steers runs, and answers approvals", async () => {
    const hang = await codexd.submit("hang")
    for await (const event of codexd.follow(hang.runId)) {
      if (
        event.type === "event" &&
        event.event.type === "run.state" &&
        event.event.detail?.state === "running.active"
      )
        break
    }
    expect((await codexd.runs.steer(hang.runId, "finish up")).runId).toBe(hang.runId)
    const steered = await lastOf(codexd.follow(hang.runId))
    expect(steered).toMatchObject({ status: "completed" })

    const asking = await codexd.submit("approve make")
    let approvalId = ""
    for await (const event of codexd.follow(asking.runId)) {
      if (event.type === "approval.requested") {
        approvalId = event.approvalId
        break
      }
    }
    expect((await codexd.approvals.list()).find((a) => a.approvalId === approvalId)?.status).toBe("pending")
    expect((await codexd.approvals.answer(approvalId, "accept")).status).toBe("answered")
    const again = await failure(codexd.approvals.answer(approvalId, "decline"))
    expect(again).toBeInstanceOf(ConflictError)
    expect(await lastOf(codexd.follow(asking.runId))).toMatchObject({ status: "completed" })

    const stuck = await codexd.submit("hang")
    await codexd.runs.interrupt(stuck.runId)
    expect(await lastOf(codexd.follow(stuck.runId))).toMatchObject({ errorCode: "interrupted" })
    expect((await codexd.runs.list()).map((r) => r.runId)).toContain(stuck.runId)
  })

  it("fails with a tagged error for each kind of refusal", async () => {
    const unknown = await failure(codexd.runs.get("run_0000000000000000000000"))
    expect(unknown).toBeInstanceOf(NotFoundError)
    expect((unknown as NotFoundError)._tag).toBe("NotFoundError")

    const empty = await failure(codexd.submit(""))
    expect(empty).toMatchObject({ _tag: "InvalidRequestError", code: "invalid-body", path: "prompt" })
    const relative = await failure(codexd.submit("look", { images: [{ path: "a.png" }] }))
    expect(relative).toBeInstanceOf(InvalidRequestError)
    expect(relative).toMatchObject({ code: "invalid-option", path: "images[0].path" })
    const badSchema = await failure(codexd.submit("json", { outputSchema: { type: "no-such-type" } }))
    expect(badSchema).toMatchObject({ path: "outputSchema" })

    const wrongToken = await CodexdClient.connect({ apiBase: codexd.apiBase, token: "not-the-token" })
    expect(await failure(wrongToken.status())).toBeInstanceOf(UnauthorizedError)

    const none = makeTempDir("codexd-client-none-")
    try {
      const error = await failure(CodexdClient.connect({ cwd: none.path }))
      expect(error).toBeInstanceOf(DaemonNotRunningError)
      expect((error as Error).message).toMatch(/no daemon is running/)
    } finally {
      none.cleanup()
    }
    // A daemon that went away: the address answers nothing.
    const gone = await CodexdClient.connect({ apiBase: "http://127.0.0.1:9", token: "t" })
    expect(await failure(gone.status())).toBeInstanceOf(DaemonNotRunningError)
  })

  it("reads the status and the events of a run", async () => {
    const status = await codexd.status()
    expect(status.daemon.pid).toBe(daemon.pid)
    expect(status.daemon.child.status).toBe("running")
    const run = await codexd.run("with events")
    const types: Array<string> = []
    for await (const event of codexd.events({ runId: run.runId })) {
      types.push(event.type)
      if (event.type === "run.completed") break
    }
    expect(types[0]).toBe("run.queued")
    expect(types).toContain("run.message.delta")
  })
})
