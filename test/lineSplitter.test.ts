import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { LineSplitter } from "../src/services/transport/lineSplitter.ts"

const collect = (maxLineBytes?: number) => {
  const lines: Array<string> = []
  const oversized: Array<number> = []
  const splitter = new LineSplitter(
    { onLine: (l) => lines.push(l), onOversizedLine: (b) => oversized.push(b) },
    maxLineBytes,
  )
  return { lines, oversized, splitter }
}

describe("LineSplitter", () => {
  it("reassembles lines however the bytes are chunked", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: "grapheme", minLength: 1 }).filter((s) => !s.includes("\n") && !s.includes("\r")),
          { maxLength: 20 },
        ),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 50 }),
        (input, cuts) => {
          const bytes = Buffer.from(input.map((l) => `${l}\n`).join(""), "utf8")
          const { lines, splitter } = collect()
          let at = 0
          for (let i = 0; at < bytes.length; i++) {
            const size = cuts[i % cuts.length] as number
            splitter.push(bytes.subarray(at, at + size))
            at += size
          }
          splitter.end()
          expect(lines).toEqual(input)
        },
      ),
    )
  })

  it("strips \\r\\n, skips empty lines, and delivers a last line without newline at end", () => {
    const { lines, splitter } = collect()
    splitter.push(Buffer.from('{"a":1}\r\n\n{"b"'))
    splitter.push(Buffer.from(":2}"))
    splitter.end()
    expect(lines).toEqual(['{"a":1}', '{"b":2}'])
  })

  it("decodes invalid UTF-8 with replacement characters instead of failing", () => {
    const { lines, splitter } = collect()
    splitter.push(Buffer.from([0x61, 0xff, 0x62, 0x0a]))
    expect(lines).toEqual(["a\uFFFDb"])
  })

  it("skips a line over the limit without buffering it, and goes on", () => {
    const { lines, oversized, splitter } = collect(10)
    splitter.push(Buffer.from("0123456789AB"))
    splitter.push(Buffer.from("CDEF\nok\n"))
    expect(oversized).toEqual([16])
    expect(lines).toEqual(["ok"])
  })

  it("treats a line inside one chunk as one split across chunks: same text, same limit", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 24 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 40 }),
        (raw, cut) => {
          const bytes = Buffer.concat(
            raw.map((line) => Buffer.concat([Buffer.from(line), Buffer.from("\n")])),
          )
          const whole = collect(16)
          whole.splitter.push(bytes)
          whole.splitter.end()
          const split = collect(16)
          for (let at = 0; at < bytes.length; at += cut) split.splitter.push(bytes.subarray(at, at + cut))
          split.splitter.end()
          expect(whole.lines).toEqual(split.lines)
          expect(whole.oversized).toEqual(split.oversized)
        },
      ),
    )
  })
})
