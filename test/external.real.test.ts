/**
 * The external strategy against the real pinned codex, started by the test as someone else's server
 * (`codex app-server --listen ws://127.0.0.1:PORT`), offline against the loopback model mock:
 * attach, run, lose the server under a turn, reconnect when it is back, resume the session's thread.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Schema } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { SmokeResult } from "../src/domain/status.ts"
import { type AppServerProcess, spawnAppServer } from "../src/services/transport/appServerProcess.ts"
import { connectWsTransport } from "../src/services/transport/wsTransport.ts"
import { runCodexd } from "./support/cli.ts"
import { makeCodexHome } from "./support/codexHome.ts"
import { withDaemonServices } from "./support/daemonHarness.ts"
import { freePort } from "./support/freePort.ts"
import { startMockResponsesApi } from "./support/mockResponsesApi.ts"
import { codexBinary } from "./support/realCodex.ts"
import { childStateOf, clientOf, waitUntil } from "./support/supervisorHarness.ts"
import { configFor, makeTempDir } from "./support/tempConfig.ts"

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Someone else's codex app-server on `port`, once it accepts connections. */
const startExternalCodex = async (
  port: number,
  cwd: string,
  env: Record<string, string>,
  tokenFile?: string,
) => {
  const auth = tokenFile === undefined ? [] : ["--ws-auth", "capability-token", "--ws-token-file", tokenFile]
  const server: AppServerProcess = spawnAppServer({
    command: codexBinary(),
    args: ["app-server", "--listen", `ws://127.0.0.1:${port}`, ...auth],
    cwd,
    env: { ...process.env, ...env },
  })
  cleanups.push(async () => void (await server.stop(2_000)))
  const token = tokenFile === undefined ? undefined : readFileSync(tokenFile, "utf8").trim()
  const until = Date.now() + 20_000
  for (;;) {
    try {
      ;(
        await connectWsTransport({ url: `ws://127.0.0.1:${port}`, ...(token === undefined ? {} : { token }) })
      ).close()
      return server
    } catch (error) {
      if (Date.now() > until) throw error
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe("external strategy (real codex behind ws://)", () => {
  it("attaches, runs, survives the server's restart and resumes the session's thread", async () => {
    const mock = await startMockResponsesApi()
    cleanups.push(() => mock.close())
    const home = makeCodexHome(`${mock.baseUrl}/v1`)
    cleanups.push(home.cleanup)
    const work = mkdtempSync(join(tmpdir(), "codexd-external-"))
    cleanups.push(() => rmSync(work, { recursive: true, force: true }))
    const temp = makeTempDir("codexd-external-state-")
    cleanups.push(temp.cleanup)
    const port = await freePort()
    const endpoint = `ws://127.0.0.1:${port}`
    let server = await startExternalCodex(port, work, home.env)

    const config = configFor(temp.path, { childStrategy: "external", endpoint })
    await withDaemonServices(config, async (d) => {
      await waitUntil(() => clientOf(d.supervisor) !== null, 20_000, "attached")
      const attached = childStateOf(d.supervisor)
      expect(attached).toMatchObject({ strategy: "external", status: "external", endpoint, pid: null })
      expect(attached.machineState).toBe("external.link.connected")
      expect(attached.userAgent).toContain("0.169.0")
      expect(attached.command).toBeNull()

      const session = await d.run(
        d.sessions.create({ purpose: "duplex", cwd: work, approvalPolicy: "never" }),
      )
      mock.enqueue({ kind: "text", deltas: ["first ", "answer"] })
      const first = await d.finished(
        (await d.run(d.runs.submit({ prompt: "one", sessionId: session.sessionId }))).runId,
      )
      expect(first.status).toBe("completed")
      expect(first.threadId).toBe(session.threadId)
      expect((first.result as { finalMessage?: string }).finalMessage).toBe("first answer")

      // The server goes away under a running turn: the run fails as for a child exit.
      mock.enqueue({ kind: "hang", firstDelta: "half" })
      const cut = await d.run(d.runs.submit({ prompt: "two", sessionId: session.sessionId }))
      await d.waitForEvent(
        (e) => e.type === "run.message.delta" && e.detail?.runId === cut.runId,
        "the cut run's first words",
      )
      await server.stop(2_000)
      const failed = await d.finished(cut.runId)
      expect(failed).toMatchObject({ status: "failed", errorCode: "child-exited" })
      await d.waitForEvent((e) => e.type === "child.exited", "the connection's end")
      expect(d.events.find((e) => e.type === "child.exited")?.message).toContain(
        `external app-server ${endpoint}`,
      )
      await waitUntil(
        () => childStateOf(d.supervisor).restartCount > 0 && clientOf(d.supervisor) === null,
        10_000,
        "reconnecting",
      )
      expect(childStateOf(d.supervisor).status).toBe("external")

      // Back on the same port: codexd reconnects by itself and the session resumes its thread there.
      server = await startExternalCodex(port, work, home.env)
      await waitUntil(() => clientOf(d.supervisor) !== null, 20_000, "reattached")
      mock.enqueue({ kind: "text", deltas: ["after ", "restart"] })
      const third = await d.finished(
        (await d.run(d.runs.submit({ prompt: "three", sessionId: session.sessionId }))).runId,
      )
      expect(third.status).toBe("completed")
      expect(third.threadId).toBe(session.threadId)
      expect(
        d.events.some((e) => e.type === "session.thread.resumed" && e.detail?.threadId === session.threadId),
      ).toBe(true)
      // The model saw the conversation so far: the thread was resumed, not replaced.
      expect(JSON.stringify(mock.requests.at(-1))).toContain("first answer")
    })
    // The daemon is gone; the server it attached to is not (it was never ours to stop).
    expect(isAlive(server.pid)).toBe(true)
    ;(await connectWsTransport({ url: endpoint })).close()
  }, 90_000)

  it("smokes an attached server: every check ok, the server left running", async () => {
    const mock = await startMockResponsesApi()
    cleanups.push(() => mock.close())
    const home = makeCodexHome(`${mock.baseUrl}/v1`)
    cleanups.push(home.cleanup)
    const temp = makeTempDir("codexd-external-smoke-")
    cleanups.push(temp.cleanup)
    const port = await freePort()
    const endpoint = `ws://127.0.0.1:${port}`
    const server = await startExternalCodex(port, temp.path, home.env)
    const run = await runCodexd(["smoke", "--json"], {
      cwd: temp.path,
      env: {
        ...home.env,
        CODEXD_API_BASE: "http://127.0.0.1:0",
        CODEXD_CHILD_STRATEGY: "external",
        CODEXD_SERVER_ENDPOINT: endpoint,
      },
    })
    const result = Schema.decodeUnknownSync(SmokeResult)(JSON.parse(run.stdout))
    expect(result.checks.filter((c) => c.status !== "ok")).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(result.checks.find((c) => c.name === "child")?.detail).toContain(`attached to ${endpoint}`)
    expect(result.snapshot?.daemon.child).toMatchObject({
      strategy: "external",
      status: "external",
      pid: null,
    })
    expect(isAlive(server.pid)).toBe(true)
  }, 60_000)

  it("attaches to a server started with --ws-auth capability-token only with its token", async () => {
    const temp = makeTempDir("codexd-external-token-")
    cleanups.push(temp.cleanup)
    const home = makeCodexHome("http://127.0.0.1:9/v1")
    cleanups.push(home.cleanup)
    const tokenFile = join(temp.path, "ws-token")
    writeFileSync(tokenFile, `capability-${process.pid}-${Date.now()}\n`, { mode: 0o600 })
    const port = await freePort()
    const endpoint = `ws://127.0.0.1:${port}`
    await startExternalCodex(port, temp.path, home.env, tokenFile)

    // Without the token the server refuses every attempt; codexd keeps trying and says why.
    await withDaemonServices(
      configFor(join(temp.path, "without"), { childStrategy: "external", endpoint }),
      async (d) => {
        await waitUntil(() => childStateOf(d.supervisor).restartCount >= 2, 20_000, "refused attempts")
        expect(clientOf(d.supervisor)).toBeNull()
        expect(childStateOf(d.supervisor).lastError).toBe(
          "the server refused the connection (HTTP 401): the server wants a token (CODEXD_SERVER_TOKEN_FILE)",
        )
      },
    )
    await withDaemonServices(
      configFor(join(temp.path, "with"), { childStrategy: "external", endpoint, serverTokenFile: tokenFile }),
      async (d) => {
        await waitUntil(() => clientOf(d.supervisor) !== null, 20_000, "attached with the token")
        expect(childStateOf(d.supervisor).userAgent).toContain("0.169.0")
      },
    )
  }, 60_000)
})
