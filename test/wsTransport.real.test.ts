/** The WebSocket transport against the real codex started with `--listen ws://127.0.0.1:PORT`. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { textInput } from "../src/domain/appServer/protocol.ts"
import { type AppServerProcess, spawnAppServer } from "../src/services/transport/appServerProcess.ts"
import { connectWsTransport } from "../src/services/transport/wsTransport.ts"
import { type CodexHome, makeCodexHome } from "./support/codexHome.ts"
import { clientInfo, openClient } from "./support/fakePeer.ts"
import { freePort } from "./support/freePort.ts"
import { type MockResponsesApi, startMockResponsesApi } from "./support/mockResponsesApi.ts"
import { codexBinary } from "./support/realCodex.ts"

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const connectWithRetry = async (url: string, deadlineMs = 15_000) => {
  const until = Date.now() + deadlineMs
  for (;;) {
    try {
      return await connectWsTransport({ url })
    } catch (error) {
      if (Date.now() > until) throw error
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

describe("WebSocket transport (real codex, --listen ws://)", () => {
  it("attaches to an external app-server and runs a turn", async () => {
    const mock: MockResponsesApi = await startMockResponsesApi()
    cleanups.push(() => mock.close())
    const home: CodexHome = makeCodexHome(mock.baseUrl)
    cleanups.push(home.cleanup)
    const work = mkdtempSync(join(tmpdir(), "codexd-ws-"))
    cleanups.push(() => rmSync(work, { recursive: true, force: true }))
    const port = await freePort()
    const server: AppServerProcess = spawnAppServer({
      command: codexBinary(),
      args: ["app-server", "--listen", `ws://127.0.0.1:${port}`],
      cwd: work,
      env: { ...process.env, ...home.env },
    })
    cleanups.push(async () => void (await server.stop(2_000)))

    const transport = await connectWithRetry(`ws://127.0.0.1:${port}`)
    const { client, waitFor, release } = openClient(transport, { clientInfo, experimentalApi: true })
    cleanups.push(release)
    const info = await Effect.runPromise(client.initialize)
    expect(info.userAgent).toContain("0.169.0")
    const { thread } = await Effect.runPromise(client.threadStart({ cwd: work, approvalPolicy: "never" }))
    mock.enqueue({ kind: "text", deltas: ["over ", "websocket"] })
    const { turn } = await Effect.runPromise(
      client.turnStart({ threadId: thread.id, input: [textInput("hi")] }),
    )
    const done = await waitFor((e) => e.type === "turn.completed" && e.turn.id === turn.id)
    expect(done.type === "turn.completed" && done.turn.status).toBe("completed")

    // The server going away closes the client, and pending and later requests fail.
    await server.stop(2_000)
    const closed = await Effect.runPromise(client.closed)
    expect(closed._tag).toBe("TransportClosedError")
    expect(closed.transport).toBe(`ws://127.0.0.1:${port}`)
  })

  it("refuses to connect where nothing listens", async () => {
    const port = await freePort()
    await expect(connectWsTransport({ url: `ws://127.0.0.1:${port}` })).rejects.toMatchObject({
      _tag: "TransportClosedError",
    })
  })
})
