/**
 * Approvals on a shared app-server: the real pinned codex serving two clients (codexd attached as an
 * external server, and another client on the same thread), offline against the loopback model mock.
 * codex asks every client; the first answer wins and `serverRequest/resolved` tells the others.
 */
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { ServerRequest } from "../src/domain/appServer/serverRequests.ts"
import { approvalAnswerFor } from "../src/services/approvals/approvalRequests.ts"
import { spawnAppServer } from "../src/services/transport/appServerProcess.ts"
import { connectWsTransport } from "../src/services/transport/wsTransport.ts"
import { makeCodexHome } from "./support/codexHome.ts"
import { withDaemonServices } from "./support/daemonHarness.ts"
import { clientInfo, openClient } from "./support/fakePeer.ts"
import { freePort } from "./support/freePort.ts"
import { startMockResponsesApi } from "./support/mockResponsesApi.ts"
import { codexBinary } from "./support/realCodex.ts"
import { clientOf, waitUntil } from "./support/supervisorHarness.ts"
import { configFor, makeTempDir } from "./support/tempConfig.ts"

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe("approvals on a shared app-server (real codex)", () => {
  it("records an approval another client answered first as resolved-elsewhere, and the run goes on", async () => {
    const mock = await startMockResponsesApi()
    cleanups.push(() => mock.close())
    const home = makeCodexHome(mock.baseUrl)
    cleanups.push(home.cleanup)
    const temp = makeTempDir("codexd-shared-approvals-")
    cleanups.push(temp.cleanup)
    const port = await freePort()
    const endpoint = `ws://127.0.0.1:${port}`
    const server = spawnAppServer({
      command: codexBinary(),
      args: ["app-server", "--listen", endpoint],
      cwd: temp.path,
      env: { ...process.env, ...home.env },
    })
    cleanups.push(async () => void (await server.stop(2_000)))

    const config = configFor(temp.path, { childStrategy: "external", endpoint, approvals: "ask" })
    await withDaemonServices(config, async (d) => {
      await waitUntil(() => clientOf(d.supervisor) !== null, 20_000, "attached")
      const session = await d.run(
        d.sessions.create({
          purpose: "duplex",
          cwd: temp.path,
          approvalPolicy: "untrusted",
          sandbox: "danger-full-access",
        }),
      )
      const threadId = String(session.threadId)
      // codex keeps a thread on disk (so another client can join it) once a turn of it ran.
      mock.enqueue({ kind: "text", deltas: ["ready"] })
      const warm = await d.run(d.runs.submit({ prompt: "warm up", sessionId: session.sessionId }))
      expect((await d.finished(warm.runId)).status).toBe("completed")

      // Someone else on the same server and thread, who accepts every approval at once.
      const asked: Array<ServerRequest> = []
      const other = openClient(await connectWsTransport({ url: endpoint }), {
        clientInfo: { ...clientInfo, name: "another-client" },
        experimentalApi: true,
        onServerRequest: (request) =>
          Effect.sync(() => {
            asked.push(request)
            return approvalAnswerFor(request, "accept")
          }),
      })
      cleanups.push(() => other.release())
      await Effect.runPromise(other.client.initialize)
      await Effect.runPromise(other.client.threadResume({ threadId, excludeTurns: true }))

      mock.enqueue({ kind: "exec", cmd: "echo approved-elsewhere" }, { kind: "text", deltas: ["ran it"] })
      const run = await d.run(d.runs.submit({ prompt: "run the command", sessionId: session.sessionId }))
      const done = await d.finished(run.runId)
      expect(done.status).toBe("completed")
      expect((done.result as { finalMessage?: string }).finalMessage).toBe("ran it")
      expect(JSON.stringify(mock.requests.at(-1))).toContain("approved-elsewhere")
      expect(asked.length).toBeGreaterThan(0)

      // codexd asked too; the other client's answer won, and codexd recorded that, not an error.
      const approval = (await d.run(d.approvals.list)).find((a) => a.runId === run.runId)
      expect(approval).toMatchObject({ status: "resolved-elsewhere", decision: null })
      expect(approval?.command).toContain("echo approved-elsewhere")
      const settled = await d.waitForEvent(
        (e) => e.type === "approval.resolved-elsewhere" && e.detail?.runId === run.runId,
      )
      expect(settled.level).toBe("info")
      expect(d.events.some((e) => e.level === "error" && e.detail?.runId === run.runId)).toBe(false)
      // A person answering it now through codexd is told it is settled.
      const late = await Effect.runPromise(
        Effect.flip(d.approvals.answer(String(approval?.approvalId), "decline")),
      )
      expect(late).toMatchObject({ _tag: "ApprovalSettledError", status: "resolved-elsewhere" })
    })
  }, 120_000)
})
