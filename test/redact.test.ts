import { describe, expect, it } from "vitest"
import { REDACTED, redactSecrets, redactText, refreshEnvSecrets } from "../src/services/logging/redact.ts"

describe("redaction", () => {
  it("redacts bearer tokens and key-like strings in text", () => {
    expect(redactText("Authorization: Bearer eyJhbGciOi.x-y_z")).toBe(`Authorization: Bearer ${REDACTED}`)
    expect(redactText("key sk-abcdefghijklmnop1234 end")).toBe(`key ${REDACTED} end`)
    expect(redactText("nothing secret here")).toBe("nothing secret here")
  })

  it("redacts values under secret-named keys at any depth, and leaves the rest", () => {
    const input = {
      OPENAI_API_KEY: "abc",
      headers: { authorization: "Basic dXNlcjpwYXNz", accept: "json" },
      list: [{ password: "hunter2" }, "Bearer zzz"],
      tokens: 12,
      api_key: null,
    }
    expect(redactSecrets(input)).toEqual({
      OPENAI_API_KEY: REDACTED,
      headers: { authorization: REDACTED, accept: "json" },
      list: [{ password: REDACTED }, `Bearer ${REDACTED}`],
      tokens: 12,
      api_key: null,
    })
    // The input is not modified.
    expect(input.headers.authorization).toBe("Basic dXNlcjpwYXNz")
  })

  it("gives back what holds no secret as the same object, and copies only what holds one", () => {
    const clean = { runId: "r1", detail: { itemId: "i1", delta: "hello" }, list: [1, "two"] }
    expect(redactSecrets(clean)).toBe(clean)
    const mixed = { keep: { a: 1 }, hide: { token: "abc" }, list: ["ok", "Bearer zzz"] }
    const redacted = redactSecrets(mixed) as typeof mixed
    expect(redacted).toEqual({
      keep: { a: 1 },
      hide: { token: REDACTED },
      list: ["ok", `Bearer ${REDACTED}`],
    })
    expect(redacted.keep).toBe(mixed.keep)
    expect(mixed.hide.token).toBe("abc")
    expect(mixed.list[1]).toBe("Bearer zzz")
  })

  it("redacts NAME=value assignments whose name says it holds a secret", () => {
    expect(redactText("OPENAI_API_KEY=sk-test-secret-XYZ HOME=/root")).toBe(
      `OPENAI_API_KEY=${REDACTED} HOME=/root`,
    )
    expect(redactText("export DB_PASSWORD=hunter22 && gh_token=abc")).toBe(
      `export DB_PASSWORD=${REDACTED} && gh_token=${REDACTED}`,
    )
    expect(redactText("PATH=/usr/bin USER=me")).toBe("PATH=/usr/bin USER=me")
  })

  it("redacts the values of the daemon's own secret-looking environment variables wherever they appear", () => {
    refreshEnvSecrets({
      OPENAI_API_KEY: "sk-test-secret-XYZ",
      MY_SERVICE_TOKEN: "tok_0123456789",
      SHORT_KEY: "abc",
      HOME: "/root",
    })
    try {
      expect(redactText("the key is sk-test-secret-XYZ, the token tok_0123456789")).toBe(
        `the key is ${REDACTED}, the token ${REDACTED}`,
      )
      // Too short to be told from a word, and not a secret's name: left alone.
      expect(redactText("abc /root")).toBe("abc /root")
      expect(redactSecrets({ output: "x sk-test-secret-XYZ" })).toEqual({ output: `x ${REDACTED}` })
    } finally {
      refreshEnvSecrets()
    }
  })
})
