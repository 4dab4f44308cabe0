import { existsSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import type { RecentEvent } from "../src/domain/event.ts"
import { openEventLogFile } from "../src/services/events/eventLogFile.ts"
import { RotatingAppender, shiftLogFiles } from "../src/system/logRotation.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const temps: Array<{ cleanup: () => void }> = []
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup()
})
const dir = () => {
  const d = makeTempDir("codexd-rotation-")
  temps.push(d)
  return d.path
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "")

describe("log rotation", () => {
  it("shifts name → name.1 → name.2 and drops what is past keep", () => {
    const path = join(dir(), "x.log")
    const log = new RotatingAppender(path, { maxBytes: 10, keep: 2 })
    for (const word of ["first-----", "second----", "third-----", "fourth----"]) log.append(word)
    expect(read(path)).toBe("fourth----")
    expect(read(`${path}.1`)).toBe("third-----")
    expect(read(`${path}.2`)).toBe("second----")
    expect(existsSync(`${path}.3`)).toBe(false)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    shiftLogFiles(path, 0)
    expect(existsSync(path)).toBe(false)
  })

  it("rotates the event log while it streams and loses no line, in order across the files", async () => {
    const path = join(dir(), "events.jsonl")
    const log = openEventLogFile(path, { maxBytes: 4_000, keep: 100 })
    const events: Array<RecentEvent> = Array.from({ length: 500 }, (_, i) => ({
      seq: i + 1,
      createdAt: "2026-01-01T00:00:00.000Z",
      level: "info",
      type: "t",
      message: `event ${i + 1}`,
      detail: null,
    }))
    for (const [i, event] of events.entries()) {
      log.append(event)
      // Now and then let the asynchronous writer catch up, as a live daemon does between bursts.
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5))
    }
    await new Promise<void>((resolve) => log.flush(resolve))
    await new Promise((r) => setTimeout(r, 50))
    const files = Array.from({ length: 100 }, (_, n) => `${path}.${100 - n}`).filter(existsSync)
    expect(files.length).toBeGreaterThan(3)
    const seqs = [...files, path]
      .flatMap((f) => read(f).split("\n"))
      .filter((line) => line !== "")
      .map((line) => (JSON.parse(line) as RecentEvent).seq)
    expect(seqs).toEqual(events.map((e) => e.seq))
    // Each rotated file stopped near the size (one burst of lines past it at most).
    for (const f of files) expect(statSync(f).size).toBeLessThan(4_000 * 3)
  })
})
