/**
 * Thread operations on real threads: `codexd start` supervising the pinned codex against the
 * loopback model mock, driven through the typed client (and the CLI for a review). What the model
 * is sent after each operation shows what codex made of the thread.
 */
import { execFileSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connectApi } from "../src/client/apiConnection.ts"
import { CodexdClient } from "../src/client/CodexdClient.ts"
import type { RunRecord } from "../src/domain/run.ts"
import type { SessionRecord } from "../src/domain/session.ts"
import { runCodexd } from "./support/cli.ts"
import { makeCodexHome } from "./support/codexHome.ts"
import { startDaemonProcess } from "./support/daemonProcess.ts"
import { type MockResponsesApi, startMockResponsesApi } from "./support/mockResponsesApi.ts"
import { configFor, makeTempDir } from "./support/tempConfig.ts"

const cleanups: Array<() => Promise<void> | void> = []

/** Every user message text the model was sent in `request` (the thread's history as codex sees it). */
const userTexts = (request: Record<string, unknown> | undefined): Array<string> =>
  ((request?.input ?? []) as Array<{ role?: string; content?: Array<{ text?: string }> }>)
    .filter((item) => item.role === "user")
    .map((item) => (item.content ?? []).map((c) => c.text ?? "").join(""))

const git = (cwd: string, ...args: Array<string>) =>
  execFileSync("git", ["-c", "user.email=codexd@test", "-c", "user.name=codexd", ...args], {
    cwd,
    encoding: "utf8",
  }).trim()

const reviewReply = (explanation: string) => ({
  kind: "text" as const,
  deltas: [
    JSON.stringify({
      findings: [],
      overall_correctness: "patch is correct",
      overall_explanation: explanation,
      overall_confidence_score: 0.9,
    }),
  ],
})

describe("thread operations with the real codex", () => {
  let mock: MockResponsesApi
  let home: ReturnType<typeof makeCodexHome>
  let dir: string
  let commit: string
  let client: CodexdClient
  let session: SessionRecord
  let first: RunRecord
  let second: RunRecord
  const ended = async (run: RunRecord) => {
    const events = client.follow(run.runId)
    for (;;) {
      const next = await events.next()
      if (next.done === true) return next.value
    }
  }
  const ask = (prompt: string, sessionId: string) => client.run(prompt, { sessionId })

  beforeAll(async () => {
    mock = await startMockResponsesApi()
    cleanups.push(() => mock.close())
    home = makeCodexHome(mock.baseUrl)
    cleanups.push(home.cleanup)
    const temp = makeTempDir("codexd-threadops-real-")
    cleanups.push(temp.cleanup)
    dir = temp.path
    git(dir, "init", "-q")
    writeFileSync(join(dir, "notes.txt"), "first line\n")
    git(dir, "add", "notes.txt")
    git(dir, "commit", "-q", "-m", "add notes")
    commit = git(dir, "rev-parse", "HEAD")
    writeFileSync(join(dir, "notes.txt"), "first line\nsecond line\n")

    const daemon = startDaemonProcess([], home.env, dir)
    cleanups.push(async () => {
      if (daemon.exitCode() === undefined) await daemon.stop()
    })
    await daemon.waitForOutput(/codexd ready/, 60_000)
    const api = connectApi(configFor(dir))
    if ("noDaemon" in api) throw new Error(api.noDaemon)
    client = CodexdClient.over(api)

    session = await client.sessions.create({ approvalPolicy: "never", cwd: dir })
    mock.enqueue({ kind: "text", deltas: ["one"] }, { kind: "text", deltas: ["two"] })
    first = await ask("first question", session.sessionId)
    second = await ask("second question", session.sessionId)
    expect([first.status, second.status]).toEqual(["completed", "completed"])
  }, 120_000)

  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it("forks a session through a run's turn into a new session on a new thread", async () => {
    const forked = await client.sessions.fork(session.sessionId, { runId: first.runId })
    expect(forked.sessionId).not.toBe(session.sessionId)
    expect(forked.threadId).not.toBeNull()
    expect(forked.threadId).not.toBe(session.threadId)
    expect(forked.metadata.forkedFrom).toBe(session.sessionId)
    const onFork = await ask("on the fork", forked.sessionId)
    expect(onFork).toMatchObject({ status: "completed", threadId: forked.threadId })
    expect(userTexts(mock.requests.at(-1))).toEqual(expect.arrayContaining(["first question", "on the fork"]))
    expect(userTexts(mock.requests.at(-1))).not.toContain("second question")
    // A revert to a run of another session is refused, saying why.
    const refused = await client.sessions.revert(session.sessionId, onFork.runId).catch((e: Error) => e)
    expect(refused).toMatchObject({ _tag: "ConflictError" })
    expect((refused as Error).message).toContain("another session")
  }, 60_000)

  it("reverts a session to before a run's turn: the next turn no longer sees it", async () => {
    const reverted = await client.sessions.revert(session.sessionId, second.runId)
    expect(reverted.threadId).toBe(session.threadId)
    const afterRevert = await ask("after the revert", session.sessionId)
    expect(afterRevert.status).toBe("completed")
    expect(userTexts(mock.requests.at(-1))).toEqual(
      expect.arrayContaining(["first question", "after the revert"]),
    )
    expect(userTexts(mock.requests.at(-1))).not.toContain("second question")
  }, 60_000)

  it("compacts a session as a run whose summary later turns start from", async () => {
    mock.enqueue({ kind: "text", deltas: ["the summary of it all"] })
    const before = mock.requests.length
    const compacted = await ended(await client.sessions.compact(session.sessionId))
    expect(compacted).toMatchObject({ status: "completed", threadId: session.threadId })
    expect(compacted.turnId).not.toBeNull()
    expect(compacted.operation).toEqual({ type: "compact" })
    expect(mock.requests.length).toBe(before + 1)
    await ask("after the compaction", session.sessionId)
    expect(JSON.stringify(mock.requests.at(-1))).toContain("the summary of it all")
  }, 60_000)

  it("reviews the working tree (CLI) and a commit (client): the run's result carries the review", async () => {
    mock.enqueue(reviewReply("the working tree looks fine"))
    const cli = await runCodexd(["review", session.sessionId, "--json"], { cwd: dir, env: home.env })
    expect(cli.exitCode).toBe(0)
    const reviewed = JSON.parse(cli.stdout) as RunRecord
    expect(reviewed).toMatchObject({
      status: "completed",
      operation: { type: "review", target: { type: "uncommittedChanges" } },
    })
    expect(reviewed.result?.review).toBe("the working tree looks fine")
    expect(userTexts(mock.requests.at(-1)).at(-1)).toContain("Review the current code changes")

    mock.enqueue(reviewReply("the commit is fine"))
    const ofCommit = await ended(
      await client.sessions.review(session.sessionId, { type: "commit", sha: commit }),
    )
    expect(ofCommit.status).toBe("completed")
    expect(ofCommit.result?.review).toBe("the commit is fine")
    expect(JSON.stringify(mock.requests.at(-1))).toContain(commit)
  }, 60_000)
})
