import { describe, expect, it } from "vitest"
import { textInput } from "../src/domain/appServer/protocol.ts"
import { classifyLine, encodeRequest } from "../src/domain/appServer/rpc.ts"

describe("JSON-RPC classification", () => {
  it("routes by shape: method+id is a server request, id alone is a response, method alone a notification", () => {
    expect(
      classifyLine('{"id":1,"method":"item/commandExecution/requestApproval","params":{}}'),
    ).toMatchObject({ kind: "request", id: 1 })
    expect(classifyLine('{"id":1,"result":{"ok":true}}')).toEqual({
      kind: "response",
      id: 1,
      result: { ok: true },
    })
    expect(classifyLine('{"id":"a","error":{"code":-32001,"message":"busy"}}')).toEqual({
      kind: "errorResponse",
      id: "a",
      error: { code: -32001, message: "busy" },
    })
    expect(classifyLine('{"method":"turn/started","params":{},"emittedAtMs":5}')).toEqual({
      kind: "notification",
      method: "turn/started",
      params: {},
      emittedAtMs: 5,
    })
  })

  it("fails the request an error answer without code and message belongs to, instead of dropping it", () => {
    expect(classifyLine('{"id":3,"error":{}}')).toEqual({
      kind: "errorResponse",
      id: 3,
      error: {
        code: -32603,
        message: "the app-server answered with an error without code and message",
        data: {},
      },
    })
    expect(classifyLine('{"id":null,"error":{}}')).toMatchObject({ kind: "malformed" })
  })

  it("accepts a jsonrpc field when present, refuses a wrong one", () => {
    expect(classifyLine('{"jsonrpc":"2.0","id":2,"result":null}')).toMatchObject({ kind: "response", id: 2 })
    expect(classifyLine('{"jsonrpc":"1.0","id":2,"result":null}')).toMatchObject({ kind: "malformed" })
  })

  it("calls everything else malformed, with a bounded excerpt", () => {
    for (const line of [
      "nope",
      "42",
      "null",
      '{"id":{},"result":1}',
      '{"method":5}',
      '{"error":{"code":1}}',
    ]) {
      expect(classifyLine(line).kind).toBe("malformed")
    }
    const long = classifyLine(`x${"y".repeat(10_000)}`)
    expect(long.kind === "malformed" && long.event.excerpt.length).toBeLessThanOrEqual(513)
    expect(long.kind === "malformed" && long.event.length).toBe(10_001)
  })

  it("encodes requests without a jsonrpc field, and the seed's helpers", () => {
    expect(JSON.parse(encodeRequest(3, "turn/start", { threadId: "t" }))).toEqual({
      id: 3,
      method: "turn/start",
      params: { threadId: "t" },
    })
    expect(textInput("hi")).toEqual({ type: "text", text: "hi", text_elements: [] })
  })
})
