import * as Result from "effect/Result"
import type * as Schema from "effect/Schema"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { notificationTable, toAppServerEvent } from "../src/domain/appServer/events.ts"
import { decodeValue } from "../src/domain/decode.ts"

const DELTAS = ["item/agentMessage/delta", "item/plan/delta", "item/commandExecution/outputDelta"] as const

/** What the method's schema makes of `params`, as the event it would give. */
const throughSchema = (method: (typeof DELTAS)[number], params: unknown) => {
  const [type, schema] = notificationTable[method]
  const decoded = decodeValue(schema as Schema.ConstraintDecoder<object>, "params")(params)
  return Result.isSuccess(decoded)
    ? { ...decoded.success, type, notificationMethod: method, emittedAtMs: 7 }
    : null
}

describe("streaming deltas", () => {
  it("become the same event the schema would make, extra fields and all", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DELTAS),
        fc.record({ threadId: fc.string(), turnId: fc.string(), itemId: fc.string(), delta: fc.string() }),
        fc.dictionary(
          fc.string().filter((k) => !["threadId", "turnId", "itemId", "delta"].includes(k)),
          fc.jsonValue(),
        ),
        (method, fields, extra) => {
          const params = { ...extra, ...fields }
          expect(toAppServerEvent(method, params, 7)).toEqual(throughSchema(method, params))
        },
      ),
    )
  })

  it("that do not match their schema pass through as a generic notification with the decode error", () => {
    for (const method of DELTAS) {
      const params = { threadId: "t", turnId: "u", itemId: "i", delta: 42 }
      const event = toAppServerEvent(method, params, null)
      expect(event).toMatchObject({ type: "notification", notificationMethod: method, params })
      expect((event as { decodeError?: string }).decodeError).toMatch(/delta/)
      expect(toAppServerEvent(method, null, null)).toMatchObject({ type: "notification" })
    }
  })
})
