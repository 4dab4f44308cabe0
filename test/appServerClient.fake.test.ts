import { Effect, Exit } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { textInput } from "../src/domain/appServer/protocol.ts"
import { approvalAnswer } from "../src/domain/appServer/serverRequests.ts"
import type { AppServerError, UnknownThreadError } from "../src/services/appServer/appServerErrors.ts"
import { type FakeSession, startFake } from "./support/fakePeer.ts"

const sessions: Array<FakeSession> = []
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.cleanup()))
})
const fake = (...args: Parameters<typeof startFake>): FakeSession => {
  const session = startFake(...args)
  sessions.push(session)
  return session
}
const run = <A>(effect: Effect.Effect<A, AppServerError>) => Effect.runPromise(effect)
const fail = async <A, E extends AppServerError | UnknownThreadError>(
  effect: Effect.Effect<A, E>,
): Promise<E> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (error === undefined || error._tag !== "Fail")
    throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return error.error
}

describe("AppServerClient against the fake app-server", () => {
  it("handshakes: initialize with client info and capabilities, then initialized", async () => {
    const s = fake(
      { requests: { initialize: [{ respondParams: true }] } },
      { experimentalApi: true, optOutNotificationMethods: ["thread/started"] },
    )
    const echoed = (await run(s.client.request("initialize", { probe: 1 }))) as Record<string, unknown>
    expect(echoed).toEqual({ probe: 1 })
    const t = fake({}, { experimentalApi: true, optOutNotificationMethods: ["thread/started"] })
    const result = await run(t.client.initialize)
    expect(result.userAgent).toBe("fake-app-server/0.0.0")
    expect(t.client.serverInfo()?.platformOs).toBe("linux")
    const notified = await t.waitFor(
      (e) => e.type === "notification" && e.notificationMethod === "fake/notified",
    )
    expect(notified).toMatchObject({ params: { method: "initialized" } })
  })

  it("sends initialize params as the protocol says: clientInfo and capabilities", async () => {
    const s = fake(
      { requests: { initialize: [{ respondWithParams: { userAgent: "fake-app-server/0.0.0" } }] } },
      { experimentalApi: true, optOutNotificationMethods: ["x/y"] },
    )
    const result = await run(s.client.initialize)
    // InitializeParams of the pinned protocol: `clientInfo` {name, title, version}, `capabilities`.
    expect(result.receivedParams).toEqual({
      clientInfo: { name: "codexd-test", title: null, version: "0.0.0" },
      capabilities: { experimentalApi: true, optOutNotificationMethods: ["x/y"] },
    })
    const plain = fake({ requests: { initialize: [{ respondWithParams: { userAgent: "fake/0" } }] } })
    expect((await run(plain.client.initialize)).receivedParams).toEqual({
      clientInfo: { name: "codexd-test", title: null, version: "0.0.0" },
      capabilities: { experimentalApi: false },
    })
  })

  it("names the missing field when an initialize answer is not an InitializeResult", async () => {
    const s = fake({ requests: { initialize: [{ respondParams: true }] } })
    const error = await fail(s.client.initialize)
    expect(error._tag).toBe("ResultDecodeError")
    expect(error.message).toContain("userAgent")
  })

  it("correlates concurrent requests answered out of order", async () => {
    const s = fake({
      requests: {
        "slow/one": [{ delayMs: 150 }, { respond: { which: "one" } }],
        "fast/two": [{ respond: { which: "two" } }],
      },
    })
    const [one, two] = await run(
      Effect.all([s.client.request("slow/one"), s.client.request("fast/two")], { concurrency: "unbounded" }),
    )
    expect(one).toEqual({ which: "one" })
    expect(two).toEqual({ which: "two" })
  })

  it("types the thread and turn requests", async () => {
    const thread = {
      id: "thr_1",
      preview: "",
      ephemeral: false,
      modelProvider: "mock",
      createdAt: 1,
      updatedAt: 1,
      status: { type: "idle" },
      cwd: "/tmp",
      extraField: 42,
    }
    const s = fake({
      requests: {
        "thread/start": [
          {
            respond: {
              thread,
              model: "m",
              modelProvider: "mock",
              serviceTier: null,
              cwd: "/tmp",
              approvalPolicy: "never",
              sandbox: { type: "dangerFullAccess" },
              reasoningEffort: null,
            },
          },
        ],
        "turn/start": [{ respond: { turn: { id: "turn_1", status: "inProgress", error: null, items: [] } } }],
        "turn/steer": [{ respondParams: true }],
      },
    })
    const started = await run(s.client.threadStart({ cwd: "/tmp" }))
    expect(started.thread.id).toBe("thr_1")
    // Fields codexd does not name are kept.
    expect(started.thread.extraField).toBe(42)
    const turn = await run(s.client.turnStart({ threadId: "thr_1", input: [textInput("hi")] }))
    expect(turn.turn.status).toBe("inProgress")
    const steerError = await fail(
      s.client.turnSteer({ threadId: "thr_1", input: [textInput("more")], expectedTurnId: "turn_1" }),
    )
    expect(steerError._tag).toBe("ResultDecodeError")
  })

  it("turns a JSON-RPC error into a typed error, and overload into its own tag", async () => {
    const s = fake({
      requests: {
        "thread/read": [
          { error: { code: -32600, message: "invalid request: thr_x", data: { threadId: "thr_x" } } },
        ],
        "turn/start": [{ error: { code: -32001, message: "server overloaded; retry later" } }],
      },
    })
    const notFound = await fail(s.client.threadRead({ threadId: "thr_x" }))
    expect(notFound).toMatchObject({
      _tag: "RpcError",
      method: "thread/read",
      code: -32600,
      data: { threadId: "thr_x" },
    })
    // A thread codex has no rollout of is told apart at the protocol edge.
    const unknown = fake({
      requests: { "thread/read": [{ error: { code: -32600, message: "thread not loaded: thr_y" } }] },
    })
    expect(await fail(unknown.client.threadRead({ threadId: "thr_y" }))).toMatchObject({
      _tag: "UnknownThreadError",
      threadId: "thr_y",
    })
    const overloaded = await fail(s.client.turnStart({ threadId: "t", input: [] }))
    expect(overloaded._tag).toBe("RpcOverloadedError")
  })

  it("fails a request at once when its error answer has no code and message", async () => {
    const s = fake({ requests: { "bad/error": [{ raw: '{"id":1,"error":"it broke"}' }] } })
    const started = Date.now()
    const error = await fail(s.client.request("bad/error", {}, { timeoutMs: 60_000 }))
    expect(error).toMatchObject({ _tag: "RpcError", method: "bad/error", code: -32603 })
    // Not by the timeout: the answer itself failed it.
    expect(Date.now() - started).toBeLessThan(30_000)
  })

  it("delivers every line a child wrote before it exited, then the close", async () => {
    const s = fake({
      onInitialized: [
        { notify: { method: "fake/tick" }, count: 50_000 },
        {
          notify: {
            method: "turn/completed",
            params: { threadId: "t", turn: { id: "u", status: "completed" } },
          },
        },
        { exit: 0 },
      ],
    })
    await run(s.client.initialize)
    const closed = await s.waitFor((e) => e.type === "transport.closed", 60_000)
    expect(closed.type).toBe("transport.closed")
    const ticks = s.events.filter((e) => e.type === "notification" && e.notificationMethod === "fake/tick")
    expect(ticks).toHaveLength(50_000)
    // The turn's end came before the close, never lost to it.
    const order = s.events.map((e) => e.type)
    expect(order.indexOf("turn.completed")).toBeGreaterThan(-1)
    expect(order.indexOf("turn.completed")).toBeLessThan(order.indexOf("transport.closed"))
  })

  it("times out a request that is never answered, and ignores the late answer", async () => {
    const s = fake({
      requests: { "never/answers": [{ never: true }], "late/answer": [{ delayMs: 300 }, { respond: {} }] },
    })
    const error = await fail(s.client.request("never/answers", {}, { timeoutMs: 100 }))
    expect(error).toMatchObject({ _tag: "RequestTimeoutError", method: "never/answers", timeoutMs: 100 })
    await fail(s.client.request("late/answer", {}, { timeoutMs: 50 }))
    const stray = await s.waitFor((e) => e.type === "malformed")
    expect(stray).toMatchObject({ reason: "response to an unknown or expired request id" })
  })

  it("decodes notifications into typed events, with emittedAtMs, and passes unknown ones through", async () => {
    const s = fake({
      onInitialized: [
        {
          notify: {
            method: "item/agentMessage/delta",
            params: { threadId: "t", turnId: "u", itemId: "i", delta: "Hel" },
          },
        },
        {
          notify: {
            method: "turn/completed",
            params: { threadId: "t", turn: { id: "u", status: "completed", error: null, items: [] } },
          },
        },
        {
          notify: {
            method: "error",
            params: {
              threadId: "t",
              turnId: "u",
              error: { message: "boom", codexErrorInfo: null, additionalDetails: null },
              willRetry: true,
            },
          },
        },
        {
          notify: {
            method: "thread/tokenUsage/updated",
            params: { threadId: "t", turnId: "u", tokenUsage: { total: { totalTokens: 5 } } },
          },
        },
        { notify: { method: "serverRequest/resolved", params: { threadId: "t", requestId: 3 } } },
        { notify: { method: "totally/new", params: { a: 1 } } },
        { notify: { method: "turn/completed", params: { threadId: "t" } } },
      ],
    })
    await run(s.client.initialize)
    const delta = await s.waitFor((e) => e.type === "turn.message.delta")
    expect(delta).toMatchObject({ notificationMethod: "item/agentMessage/delta", delta: "Hel", itemId: "i" })
    expect(typeof (delta as { emittedAtMs: number }).emittedAtMs).toBe("number")
    expect(await s.waitFor((e) => e.type === "turn.completed")).toMatchObject({
      turn: { status: "completed" },
    })
    expect(await s.waitFor((e) => e.type === "turn.error")).toMatchObject({
      willRetry: true,
      error: { message: "boom" },
    })
    expect(await s.waitFor((e) => e.type === "thread.tokenUsage.updated")).toMatchObject({
      tokenUsage: { total: { totalTokens: 5 } },
    })
    expect(await s.waitFor((e) => e.type === "serverRequest.resolved")).toMatchObject({ requestId: 3 })
    expect(
      await s.waitFor((e) => e.type === "notification" && e.notificationMethod === "totally/new"),
    ).toMatchObject({ params: { a: 1 } })
    const broken = await s.waitFor(
      (e) => e.type === "notification" && e.notificationMethod === "turn/completed",
    )
    expect(broken).toMatchObject({ decodeError: expect.stringContaining("turn") })
  })

  it("reports garbage, non-messages, invalid UTF-8 and a 20 MiB line without dropping the connection", async () => {
    const s = fake({
      onInitialized: [
        { raw: "this is not json" },
        { raw: "[1,2,3]" },
        { raw: '{"id":1}' },
        { rawBytes: [0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d] },
        { hugeLineBytes: 20 * 1024 * 1024 },
        { notify: { method: "after/garbage" } },
      ],
    })
    await run(s.client.initialize)
    const huge = await s.waitFor((e) => e.type === "notification" && e.notificationMethod === "fake/huge")
    expect((huge as { params: { filler: string } }).params.filler.length).toBe(20 * 1024 * 1024)
    await s.waitFor((e) => e.type === "notification" && e.notificationMethod === "after/garbage")
    const malformed = s.events.filter((e) => e.type === "malformed")
    expect(malformed.map((e) => e.type === "malformed" && e.reason)).toEqual([
      "not JSON",
      "not a JSON-RPC message (expected an object)",
      "response without result or error",
      "not JSON",
    ])
    for (const e of malformed) if (e.type === "malformed") expect(e.excerpt.length).toBeLessThanOrEqual(513)
    // Still talking.
    expect(await run(s.client.request("still/here"))).toEqual({})
  })

  it("routes server requests by shape even when their ids collide with ours", async () => {
    const s = fake(
      {
        requests: {
          "collide/me": [
            {
              serverRequest: {
                id: 1,
                method: "item/commandExecution/requestApproval",
                params: { threadId: "t", turnId: "u", itemId: "i", command: "ls" },
              },
            },
            { delayMs: 100 },
            { respond: { mine: true } },
          ],
        },
      },
      {
        onServerRequest: (request) =>
          Effect.succeed(
            approvalAnswer(
              request.params && (request.params as { command: string }).command === "ls"
                ? "accept"
                : "decline",
            ),
          ),
      },
    )
    await run(s.client.initialize) // id 1 is ours too
    const result = await run(s.client.request("collide/me"))
    expect(result).toEqual({ mine: true })
    const answered = await s.waitFor(
      (e) => e.type === "notification" && e.notificationMethod === "fake/clientAnswered",
    )
    expect(answered).toMatchObject({ params: { id: 1, result: { decision: "accept" } } })
  })

  it("answers an unknown server request, or one without a handler, with method-not-found", async () => {
    const s = fake({
      onInitialized: [
        { serverRequest: { id: 7, method: "item/tool/call", params: {} } },
        { serverRequest: { id: "s-8", method: "item/fileChange/requestApproval", params: {} } },
      ],
    })
    await run(s.client.initialize)
    await s.waitFor(
      (e) =>
        e.type === "notification" &&
        e.notificationMethod === "fake/clientAnswered" &&
        (e.params as { id: unknown }).id === "s-8",
    )
    const answers = s.events
      .filter((e) => e.type === "notification" && e.notificationMethod === "fake/clientAnswered")
      .map((e) => (e as { params: { id: unknown; error: { code: number } } }).params)
    expect(answers.map((a) => [a.id, a.error.code])).toEqual([
      [7, -32601],
      ["s-8", -32601],
    ])
    expect(s.events.filter((e) => e.type === "serverRequest.unsupported")).toEqual([
      { type: "serverRequest.unsupported", method: "item/tool/call", id: 7, params: {} },
      { type: "serverRequest.unsupported", method: "item/fileChange/requestApproval", id: "s-8", params: {} },
    ])
  })

  it("answers internal-error when the handler dies", async () => {
    const s = fake(
      {
        onInitialized: [{ serverRequest: { id: 9, method: "item/permissions/requestApproval", params: {} } }],
      },
      { onServerRequest: () => Effect.die(new Error("handler bug")) },
    )
    await run(s.client.initialize)
    const answered = await s.waitFor(
      (e) => e.type === "notification" && e.notificationMethod === "fake/clientAnswered",
    )
    expect(answered).toMatchObject({ params: { id: 9, error: { code: -32603 } } })
  })

  it("fails every pending request at once when the peer exits, and every later one (sticky)", async () => {
    const s = fake({
      requests: {
        "hang/one": [{ never: true }],
        "hang/two": [{ never: true }],
        "exit/now": [{ delayMs: 50 }, { exit: 3 }],
      },
    })
    const pending = Promise.all([fail(s.client.request("hang/one")), fail(s.client.request("hang/two"))])
    const started = Date.now()
    await fail(s.client.request("exit/now"))
    const errors = await pending
    expect(Date.now() - started).toBeLessThan(5_000)
    for (const error of errors)
      expect(error).toMatchObject({ _tag: "TransportClosedError", exitCode: 3, signal: null })
    const later = await fail(s.client.request("anything"))
    expect(later._tag).toBe("TransportClosedError")
    expect(s.client.isClosed()).toBe(true)
  })

  it("reports a peer killed by a signal", async () => {
    const s = fake({ requests: { "die/now": [{ kill: "SIGKILL" }] } })
    const error = await fail(s.client.request("die/now"))
    expect(error).toMatchObject({ _tag: "TransportClosedError", signal: "SIGKILL" })
  })

  it("escalates to SIGKILL for a peer that ignores SIGTERM", async () => {
    const s = fake({ ignoreSigterm: true })
    await run(s.client.initialize)
    const exit = await s.proc.stop(200)
    expect(exit.signal).toBe("SIGKILL")
  })
})
