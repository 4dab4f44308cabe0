import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import type { RunRecord } from "../src/domain/run.ts"
import { GroupCommitJournal } from "../src/services/store/groupCommitJournal.ts"
import type { JournalProblem } from "../src/services/store/journaledRegistry.ts"
import { RunArchive } from "../src/services/store/runArchive.ts"
import { RunRegistryFile, type RunRegistrySnapshot } from "../src/services/store/runRegistryFile.ts"
import { finished, makeRun } from "./support/runs.ts"
import { makeTempDir } from "./support/tempConfig.ts"

const temps: Array<{ cleanup: () => void }> = []
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup()
})

const stateDir = () => {
  const dir = makeTempDir("codexd-registry-")
  temps.push(dir)
  return {
    dir: dir.path,
    paths: { snapshotPath: join(dir.path, "runs.json"), journalPath: join(dir.path, "runs.journal.jsonl") },
    archivePath: join(dir.path, "runs.archive.jsonl"),
  }
}

const openRegistry = async (
  state: ReturnType<typeof stateDir>,
  options: { readOnly?: boolean; retention?: number } = {},
) => {
  const readOnly = options.readOnly ?? false
  const problems: Array<JournalProblem> = []
  const snapshotText = (() => {
    try {
      return readFileSync(state.paths.snapshotPath, "utf8")
    } catch {
      return null
    }
  })()
  const registry = await RunRegistryFile.open({
    paths: state.paths,
    snapshot: snapshotText === null ? null : (JSON.parse(snapshotText) as RunRegistrySnapshot),
    archive: await RunArchive.open(state.archivePath, { readOnly }),
    retention: options.retention ?? 1000,
    readOnly,
    openedAt: new Date("2026-01-01T00:00:00Z"),
    report: (problem) => problems.push(problem),
  })
  return { registry, problems }
}

const ids = (runs: ReadonlyArray<RunRecord>) => runs.map((run) => run.runId)
const now = "2026-01-01T00:00:00.000Z"

describe("RunRegistryFile", () => {
  it("replays the journal after a crash: what was acknowledged is there, in order, at its newest", async () => {
    const state = stateDir()
    const { registry } = await openRegistry(state)
    const runs = Array.from({ length: 5 }, () => makeRun())
    for (const run of runs) await registry.put([run], now)
    await registry.put([{ ...(runs[1] as RunRecord), summary: "second change" }], now)
    // No close: the process "died" here. runs.json was never written.
    const { registry: seen } = await openRegistry(state, { readOnly: true })
    expect(ids(seen.state.runs)).toEqual(ids(runs))
    expect(seen.state.runs[1]?.summary).toBe("second change")

    // A writable open starts from a fresh snapshot and an empty journal.
    const { registry: reopened } = await openRegistry(state)
    expect(ids(reopened.state.runs)).toEqual(ids(runs))
    expect(readFileSync(state.paths.journalPath, "utf8")).toBe("")
    const snapshot = JSON.parse(readFileSync(state.paths.snapshotPath, "utf8")) as RunRegistrySnapshot
    expect(ids(snapshot.runs)).toEqual(ids(runs))
    await reopened.close()
  })

  it("skips journal lines the snapshot already holds (a crash between snapshot and truncation)", async () => {
    const state = stateDir()
    const run = makeRun()
    const newer = { ...run, summary: "newer" }
    const snapshot: RunRegistrySnapshot = { updatedAt: now, journalSeq: 2, runs: [newer] }
    writeFileSync(state.paths.snapshotPath, JSON.stringify(snapshot))
    // Line 1 is older than the snapshot; replaying it would bring back the old record.
    writeFileSync(
      state.paths.journalPath,
      `${JSON.stringify({ seq: 1, updatedAt: now, put: [run], drop: [] })}\n`,
    )
    const { registry } = await openRegistry(state, { readOnly: true })
    expect(registry.state.runs).toEqual([newer])
  })

  it("ignores a torn last line, reports and moves aside a journal with a bad line, and keeps the rest", async () => {
    const state = stateDir()
    const [a, b, c] = [makeRun(), makeRun(), makeRun()]
    const line = (seq: number, put: Array<RunRecord>) =>
      `${JSON.stringify({ seq, updatedAt: now, put, drop: [] })}\n`
    writeFileSync(state.paths.journalPath, `${line(1, [a])}{"seq":2,"put":[{"runId":""}]}\n${line(3, [c])}`)
    appendFileSync(state.paths.journalPath, line(4, [b]).slice(0, 40))

    const readOnly = await openRegistry(state, { readOnly: true })
    expect(ids(readOnly.registry.state.runs)).toEqual([a.runId, c.runId])
    expect(readOnly.problems).toHaveLength(1)
    expect(readOnly.problems[0]?.movedTo).toBeNull()
    expect(readOnly.problems[0]?.reason).toMatch(/runs\.journal\.jsonl:2/)

    const writable = await openRegistry(state)
    expect(ids(writable.registry.state.runs)).toEqual([a.runId, c.runId])
    const movedTo = writable.problems[0]?.movedTo ?? ""
    expect(readdirSync(state.dir)).toContain(movedTo.split("/").pop())
    expect(readFileSync(movedTo, "utf8")).toContain('{"seq":2,"put":[{"runId":""}]}')
    expect(readFileSync(state.paths.journalPath, "utf8")).toBe("")
    await writable.registry.close()
  })

  it("commits a burst of concurrent changes in a few writes, each durable when it resolves", async () => {
    const state = stateDir()
    const { registry } = await openRegistry(state)
    const runs = Array.from({ length: 300 }, () => makeRun())
    await Promise.all(
      runs.map((run) =>
        registry.put([run], now).then(() => {
          expect(readFileSync(state.paths.journalPath, "utf8")).toContain(run.runId)
        }),
      ),
    )
    expect(registry.commitCount).toBeLessThanOrEqual(3)
    await registry.close()
  })

  it("archives finished runs past the retention before the line that drops them, in order of finish", async () => {
    const state = stateDir()
    const { registry } = await openRegistry(state, { retention: 2 })
    const queued = makeRun()
    const done = Array.from({ length: 5 }, () => finished(makeRun()))
    await registry.put([queued], now)
    for (const run of done) await registry.put([run], now)
    expect(ids(registry.state.runs)).toEqual([queued.runId, ...ids(done.slice(-2))])
    const archived = readFileSync(state.archivePath, "utf8").trim().split("\n")
    expect(archived.map((l) => (JSON.parse(l) as RunRecord).runId)).toEqual(ids(done.slice(0, 3)))
    // The registry read back from disk agrees, without a close.
    const { registry: seen } = await openRegistry(state, { readOnly: true, retention: 2 })
    expect(ids(seen.state.runs)).toEqual(ids(registry.state.runs))
    await registry.close()
  })

  it("keeps the journal no larger than about a snapshot: compaction runs between commits", async () => {
    const state = stateDir()
    const { registry } = await openRegistry(state)
    const runs = Array.from({ length: 50 }, () => makeRun({ prompt: "p".repeat(2000) }))
    await registry.put(runs, now)
    let largest = 0
    for (let i = 0; i < 2000; i++) {
      const run = runs[i % runs.length] as RunRecord
      await registry.put([{ ...run, summary: `change ${i}` }], now)
      largest = Math.max(largest, statSync(state.paths.journalPath).size)
    }
    // The snapshot is ~100 KB, so the 1 MiB floor bounds the journal.
    expect(largest).toBeLessThan(1024 * 1024 + 10_000)
    const { registry: seen } = await openRegistry(state, { readOnly: true })
    expect(seen.state.runs.map((r) => r.summary)).toEqual(registry.state.runs.map((r) => r.summary))
    expect(seen.state.runs[(2000 - 1) % runs.length]?.summary).toBe("change 1999")
    await registry.close()
  })

  it("GroupCommitJournal compacts on request between commits, never inside one", async () => {
    const state = stateDir()
    const order: Array<string> = []
    const journal = await GroupCommitJournal.open(state.paths.journalPath, {
      shouldCompact: () => false,
      compact: async () => {
        order.push(`compact@${readFileSync(state.paths.journalPath, "utf8").split("\n").length - 1}`)
      },
    })
    const first = Array.from({ length: 10 }, (_, i) => journal.append(`line ${i}\n`))
    await Promise.all([...first, journal.compactNow()])
    await journal.append("after\n")
    // One commit held the burst; compaction saw it whole; the journal was emptied for what came after.
    expect(journal.commitCount).toBe(2)
    expect(order).toEqual(["compact@10"])
    expect(readFileSync(state.paths.journalPath, "utf8")).toBe("after\n")
    await journal.close()
    await expect(journal.append("closed\n")).rejects.toThrow(/closed/)
  })
})
