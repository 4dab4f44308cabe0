import { describe, expect, it } from "vitest"
import { REDACTED, redactSecrets, redactText } from "../src/services/logging/redact.ts"

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
})
