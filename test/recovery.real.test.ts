/**
 * No run executed twice after a daemon crash, with `codexd start` supervising the real pinned codex
 * against the loopback model mock: the daemon is killed with SIGKILL right after codex has taken a
 * run's turn (the model mock has its request), and the next daemon finds the turn by the run id it
 * carries. Every model request is counted: none is lost, none repeated.
 */
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { foundationLayer } from "../src/daemon.ts"
import type { RunId } from "../src/domain/ids.ts"
import { Store } from "../src/services/store/Store.ts"
import { spawnAppServer } from "../src/services/transport/appServerProcess.ts"
import { connectWsTransport } from "../src/services/transport/wsTransport.ts"
import { type ApiAccess, apiAccess } from "./support/apiClient.ts"
import { makeCodexHome } from "./support/codexHome.ts"
import { type DaemonProcess, startDaemonProcess } from "./support/daemonProcess.ts"
import { clientInfo, openClient } from "./support/fakePeer.ts"
import { freePort } from "./support/freePort.ts"
import { type MockResponsesApi, startMockResponsesApi } from "./support/mockResponsesApi.ts"
import { codexBinary, codexPidsIn } from "./support/realCodex.ts"
import { makeRun } from "./support/runs.ts"
import { configFor, makeTempDir } from "./support/tempConfig.ts"

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The text of the last user message of a model request: which prompt the request was made for. */
const lastUserText = (request: Record<string, unknown>): string => {
  const input = (request.input ?? []) as Array<{ role?: string; content?: Array<{ text?: string }> }>
  const user = input.filter((item) => item.role === "user").at(-1)
  return (user?.content ?? []).map((c) => c.text ?? "").join("")
}

const requestsFor = (mock: MockResponsesApi, prompt: string) =>
  mock.requests.filter((r) => lastUserText(r) === prompt).length

const waitUntil = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) => {
  const until = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A project dir with `codexd start` processes over it, the model mock, and the API of the one running. */
const crashRig = async (daemonEnv: Record<string, string> = {}) => {
  const mock = await startMockResponsesApi()
  cleanups.push(() => mock.close())
  const home = makeCodexHome(mock.baseUrl)
  cleanups.push(home.cleanup)
  const dir = makeTempDir("codexd-recovery-real-")
  cleanups.push(dir.cleanup)
  cleanups.push(() => {
    for (const pid of codexPidsIn(dir.path)) process.kill(pid, "SIGKILL")
  })
  const config = configFor(dir.path)
  let daemon: DaemonProcess | null = null
  let api: ApiAccess | null = null
  const call: ApiAccess["call"] = (method, path, options) => {
    if (api === null) throw new Error("no daemon started")
    return api.call(method, path, options)
  }
  const runOf = async (runId: string) => (await call("GET", `/v1/runs/${runId}`)).json
  return {
    mock,
    home,
    dir: dir.path,
    config,
    start: async () => {
      const started = startDaemonProcess([], { ...home.env, ...daemonEnv }, dir.path)
      daemon = started
      cleanups.push(async () => {
        if (started.exitCode() === undefined) await started.stop()
      })
      await started.waitForOutput(/codexd ready/, 60_000)
      api = apiAccess(config)
    },
    /** SIGKILL the running daemon, once codex has the request of `prompt`'s turn. */
    killAfterRequestOf: async (prompt: string) => {
      await waitUntil(`the model request for "${prompt}"`, () => requestsFor(mock, prompt) === 1)
      daemon?.child.kill("SIGKILL")
      await daemon?.child
    },
    stop: () => daemon?.stop(),
    session: async () => {
      const { json } = await call("POST", "/v1/sessions", {
        body: { purpose: "duplex", approvalPolicy: "never" },
      })
      return { sessionId: String(json.sessionId), threadId: String(json.threadId) }
    },
    submit: async (prompt: string, sessionId: string) =>
      String((await call("POST", "/v1/runs", { body: { prompt, sessionId } })).json.runId),
    ended: async (runId: string) => {
      await waitUntil(`the end of ${runId}`, async () =>
        ["completed", "failed"].includes(String((await runOf(runId)).status)),
      )
      return runOf(runId)
    },
  }
}

const finalMessage = (run: Record<string, unknown>) => (run.result as Record<string, unknown>).finalMessage

describe("recovery after a daemon crash, with the real codex", () => {
  it("fails the run killed in flight and runs the one codex never got, each sent to the model once", async () => {
    const rig = await crashRig()
    await rig.start()
    const { sessionId } = await rig.session()
    rig.mock.enqueue({ kind: "text", deltas: ["warmed up"] })
    const warm = await rig.ended(await rig.submit("warm up", sessionId))
    expect(warm.status).toBe("completed")
    const threadId = String(warm.threadId)

    // In flight: the model has the request and never answers; the daemon (and with it codex) dies.
    rig.mock.enqueue({ kind: "hang", firstDelta: "thinking" })
    const inFlight = await rig.submit("in flight when killed", sessionId)
    await rig.killAfterRequestOf("in flight when killed")

    // Never started: recorded running on the thread, but codex was never sent its turn.
    const neverSent = makeRun({
      sessionId: sessionId as never,
      status: "running",
      threadId,
      prompt: "never sent before the crash",
      createdAt: new Date().toISOString(),
      startedAt: new Date().toISOString(),
    })
    await Effect.runPromise(
      Effect.gen(function* () {
        const store = yield* Store
        yield* store.putRuns([neverSent])
      }).pipe(Effect.provide(foundationLayer(rig.config))),
    )

    rig.mock.enqueue({ kind: "text", deltas: ["now it ran"] })
    await rig.start()
    expect(await rig.ended(inFlight)).toMatchObject({
      status: "failed",
      errorCode: "daemon-restarted",
      threadId,
    })
    const rerun = await rig.ended(neverSent.runId as RunId)
    expect(rerun).toMatchObject({ status: "completed", threadId })
    expect(finalMessage(rerun)).toBe("now it ran")

    // Every prompt reached the model exactly once: nothing lost, nothing sent twice.
    for (const prompt of ["warm up", "in flight when killed", "never sent before the crash"])
      expect({ prompt, requests: requestsFor(rig.mock, prompt) }).toEqual({ prompt, requests: 1 })
    expect(rig.mock.requests).toHaveLength(3)
    await rig.stop()
  }, 180_000)

  it("on a shared server, completes the run codex finished alone and stops the one still running; neither sent again", async () => {
    const port = await freePort()
    const endpoint = `ws://127.0.0.1:${port}`
    const rig = await crashRig({ CODEXD_CHILD_STRATEGY: "external", CODEXD_SERVER_ENDPOINT: endpoint })
    const server = spawnAppServer({
      command: codexBinary(),
      args: ["app-server", "--listen", endpoint],
      cwd: rig.dir,
      env: { ...process.env, ...rig.home.env },
    })
    cleanups.push(async () => void (await server.stop(2_000)))
    let transport: Awaited<ReturnType<typeof connectWsTransport>> | null = null
    await waitUntil("the shared server to listen", async () => {
      transport = await connectWsTransport({ url: endpoint }).catch(() => null)
      return transport !== null
    })
    // A client of our own on the shared server, to see what codex has of the thread.
    const probe = openClient(transport as never, { clientInfo, experimentalApi: true })
    cleanups.push(() => probe.release())
    await Effect.runPromise(probe.client.initialize)
    const turnOf = async (threadId: string, runId: string) => {
      const read = await Effect.runPromise(
        Effect.result(probe.client.threadRead({ threadId, includeTurns: true })),
      )
      if (read._tag === "Failure") return null
      return (
        (read.success.thread.turns ?? []).find((turn) =>
          (turn.items ?? []).some((item) => item.type === "userMessage" && item.clientId === runId),
        ) ?? null
      )
    }

    await rig.start()
    const { sessionId, threadId } = await rig.session()
    rig.mock.enqueue({ kind: "text", deltas: ["finished ", "while ", "nobody ", "watched"], delayMs: 300 })
    const unseen = await rig.submit("finish without the daemon", sessionId)
    await rig.killAfterRequestOf("finish without the daemon")
    // The server is not the daemon's: it finishes the turn alone.
    await waitUntil(
      "the turn to complete on the shared server",
      async () => (await turnOf(threadId, unseen))?.status === "completed",
    )

    await rig.start()
    const completed = await rig.ended(unseen)
    expect(completed).toMatchObject({ status: "completed", threadId })
    expect(finalMessage(completed)).toBe("finished while nobody watched")

    rig.mock.enqueue({ kind: "hang", firstDelta: "thinking" })
    const running = await rig.submit("still running when killed", sessionId)
    await rig.killAfterRequestOf("still running when killed")
    expect((await turnOf(threadId, running))?.status).toBe("inProgress")
    await rig.start()
    expect(await rig.ended(running)).toMatchObject({ status: "failed", errorCode: "daemon-restarted" })
    // Nobody would watch it any more: the next daemon stopped it.
    await waitUntil(
      "the orphaned turn to be interrupted",
      async () => (await turnOf(threadId, running))?.status === "interrupted",
    )

    for (const prompt of ["finish without the daemon", "still running when killed"])
      expect({ prompt, requests: requestsFor(rig.mock, prompt) }).toEqual({ prompt, requests: 1 })
    expect(rig.mock.requests).toHaveLength(2)
    await rig.stop()
  }, 180_000)
})
