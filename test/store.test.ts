import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Layer, Result } from "effect"
import { execa } from "execa"
import { afterEach, describe, expect, it } from "vitest"
import { CodexdConfig } from "../src/config.ts"
import type { ResolvedConfig } from "../src/domain/config.ts"
import { decodeJsonText } from "../src/domain/decode.ts"
import type { RunId } from "../src/domain/ids.ts"
import { RunRegistryState } from "../src/domain/run.ts"
import { CoalescingWriter } from "../src/services/store/atomicFile.ts"
import { Store, type StoreOptions } from "../src/services/store/Store.ts"
import { finished, makeRun } from "./support/runs.ts"
import { configFor, makeTempDir } from "./support/tempConfig.ts"

const temps: Array<{ cleanup: () => void }> = []
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup()
})
const freshRepo = (): string => {
  const dir = makeTempDir("codexd-store-")
  temps.push(dir)
  return dir.path
}

const withStore = <A, E>(
  config: ResolvedConfig,
  body: (store: Store["Service"]) => Effect.Effect<A, E>,
  options: StoreOptions = { readOnly: false },
): Promise<A> =>
  Effect.runPromise(
    Effect.gen(function* () {
      return yield* body(yield* Store)
    }).pipe(Effect.provide(Store.layer(options).pipe(Layer.provide(CodexdConfig.layerOf(config))))),
  )

describe("Store", () => {
  it("creates the identity once and keeps it across reopenings", async () => {
    const config = configFor(freshRepo())
    const first = await withStore(config, (store) => Effect.succeed(store.identity))
    const second = await withStore(config, (store) => Effect.succeed(store.identity))
    expect(first?.daemonId).toMatch(/^daemon_/)
    expect(second).toEqual(first)
    expect(first?.nodeId).toBe("test-host")
  })

  it("gives empty defaults for missing files and creates nothing when read-only", async () => {
    const config = configFor(freshRepo())
    const seen = await withStore(
      config,
      (store) =>
        Effect.all({
          runs: store.runs,
          sessions: store.sessions,
          daemon: store.daemonState,
          id: Effect.succeed(store.identity),
        }),
      { readOnly: true },
    )
    expect(seen).toEqual({
      runs: { updatedAt: null, runs: [] },
      sessions: { updatedAt: null, sessions: [] },
      daemon: null,
      id: null,
    })
    expect(existsSync(config.paths.stateDir)).toBe(false)
  })

  it("has an update on disk by the time it is reported saved, and a whole runs.json after closing", async () => {
    const config = configFor(freshRepo())
    const run = makeRun()
    await withStore(config, (store) =>
      Effect.gen(function* () {
        yield* store.putRuns([run])
        // Read the files, not this store's memory: a second, read-only store replays the journal.
        const seen = yield* Effect.promise(() => withStore(config, (other) => other.runs, { readOnly: true }))
        expect(seen.runs.map((r) => r.runId)).toEqual([run.runId])
        const updated = yield* store.updateRun(run.runId, (r) => ({ ...r, summary: "changed" }))
        expect(updated?.summary).toBe("changed")
        expect(yield* store.updateRun("run_unknown" as RunId, (r) => r)).toBeNull()
      }),
    )
    const onDisk = Result.getOrThrow(
      decodeJsonText(RunRegistryState, "runs.json")(readFileSync(config.paths.runRegistryPath, "utf8")),
    )
    expect(onDisk.runs.map((r) => [r.runId, r.summary])).toEqual([[run.runId, "changed"]])
    expect(readFileSync(config.paths.runJournalPath, "utf8")).toBe("")
  })

  it("loses none of many concurrent run updates", async () => {
    const config = configFor(freshRepo())
    const runs = Array.from({ length: 200 }, () => makeRun())
    await withStore(config, (store) =>
      Effect.forEach(runs, (run) => store.putRuns([run]), { concurrency: "unbounded" }),
    )
    const onDisk = JSON.parse(readFileSync(config.paths.runRegistryPath, "utf8")) as RunRegistryState
    expect(onDisk.runs.map((r) => r.runId)).toEqual(runs.map((r) => r.runId))
  })

  it("CoalescingWriter writes a burst of saves in at most two writes, each save resolved after its data is on disk", async () => {
    const path = join(freshRepo(), "value.json")
    const writer = new CoalescingWriter(path)
    let latest = 0
    const saves = Array.from({ length: 100 }, (_, i) => {
      latest = i
      return writer
        .save(() => JSON.stringify({ value: latest }))
        .then(() => {
          // When save i resolves, the file holds i or something newer.
          expect((JSON.parse(readFileSync(path, "utf8")) as { value: number }).value).toBeGreaterThanOrEqual(
            i,
          )
        })
    })
    await Promise.all(saves)
    expect(writer.writes).toBeLessThanOrEqual(2)
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ value: 99 })
  })

  it("moves a corrupt file aside, reports it, and starts from the empty default", async () => {
    const config = configFor(freshRepo())
    await withStore(config, (store) => store.putRuns([makeRun()]))
    writeFileSync(config.paths.runRegistryPath, '{"updatedAt":null,"runs":[{"runId":""}]}')
    writeFileSync(config.paths.sessionRegistryPath, "{truncated")

    // Read-only: reported, left in place.
    const readOnlyReports = await withStore(config, (store) => Effect.succeed(store.corruptFiles), {
      readOnly: true,
    })
    expect(readOnlyReports.map((r) => r.movedTo)).toEqual([null, null])
    expect(existsSync(config.paths.runRegistryPath)).toBe(true)

    const { reports, runs } = await withStore(config, (store) =>
      Effect.map(store.runs, (runs) => ({ reports: store.corruptFiles, runs })),
    )
    expect(runs.runs).toEqual([])
    expect(reports.map((r) => r.path).sort()).toEqual(
      [config.paths.runRegistryPath, config.paths.sessionRegistryPath].sort(),
    )
    const runsReport = reports.find((r) => r.path === config.paths.runRegistryPath)
    expect(runsReport?.reason).toContain("runs[0].runId")
    const aside = readdirSync(config.paths.stateDir).filter((name) => name.includes(".corrupt-"))
    expect(aside).toHaveLength(2)
    // The evidence is kept byte for byte.
    expect(readFileSync(runsReport?.movedTo ?? "", "utf8")).toBe('{"updatedAt":null,"runs":[{"runId":""}]}')
    // Closing wrote the empty default in its place.
    expect(JSON.parse(readFileSync(config.paths.runRegistryPath, "utf8")).runs).toEqual([])
  })

  it("archives finished runs past the retention limit and still finds them by id", async () => {
    const config = configFor(freshRepo(), { runRetention: "3" })
    const queued = makeRun()
    const done = Array.from({ length: 10 }, () => finished(makeRun()))
    await withStore(config, (store) =>
      Effect.gen(function* () {
        yield* store.putRuns([queued])
        for (const run of done) yield* store.putRuns([run])
        const registry = yield* store.runs
        expect(registry.runs.map((r) => r.runId)).toEqual([
          queued.runId,
          ...done.slice(-3).map((r) => r.runId),
        ])
        expect(yield* store.findRun(done[0]?.runId as RunId)).toEqual(done[0])
      }),
    )
    const archiveLines = readFileSync(config.paths.runArchivePath, "utf8").trim().split("\n")
    expect(archiveLines).toHaveLength(7)
    // After a restart the index is rebuilt from the archive file.
    const found = await withStore(config, (store) => Effect.all(done.map((run) => store.findRun(run.runId))))
    expect(found).toEqual(done)
    const missing = await withStore(config, (store) => store.findRun("run_unknown" as RunId))
    expect(missing).toBeNull()
  })

  it("skips a torn archive line, reports it, and keeps appending cleanly", async () => {
    const config = configFor(freshRepo(), { runRetention: "0" })
    const first = finished(makeRun())
    await withStore(config, (store) => store.putRuns([first]))
    writeFileSync(
      config.paths.runArchivePath,
      `${readFileSync(config.paths.runArchivePath, "utf8")}{"runId":"run_torn","sta`,
    )
    const second = finished(makeRun())
    const { reports, a, b } = await withStore(config, (store) =>
      Effect.gen(function* () {
        yield* store.putRuns([second])
        return {
          reports: store.corruptFiles,
          a: yield* store.findRun(first.runId),
          b: yield* store.findRun(second.runId),
        }
      }),
    )
    expect(reports).toHaveLength(1)
    expect(reports[0]?.path).toBe(config.paths.runArchivePath)
    expect(a).toEqual(first)
    expect(b).toEqual(second)
  })

  it("survives a writer killed with SIGKILL at random moments: every file decodes, identity and acked runs stay", async () => {
    const repo = freshRepo()
    const config = configFor(repo, { runRetention: "5", eventCacheSize: "20" })
    const writer = join(import.meta.dirname, "fixtures", "storeWriter.ts")
    const acked = new Set<string>()
    let identity: string | undefined
    const rounds = 25
    for (let round = 0; round < rounds; round++) {
      const child = execa(process.execPath, [writer, repo], { reject: false, buffer: false })
      let started = false
      let exited = false
      void child.finally(() => {
        exited = true
      })
      const lines = (async () => {
        for await (const line of child.iterable()) {
          const text = String(line)
          if (text.startsWith("ack ")) acked.add(text.slice(4))
          if (text.startsWith("identity ")) {
            started = true
            identity ??= text.slice(9)
            expect(text.slice(9)).toBe(identity)
          }
        }
      })()
      // Let it start, then kill it somewhere in the middle of its writes.
      while (!started && !exited) await new Promise((r) => setTimeout(r, 5))
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 150)))
      child.kill("SIGKILL")
      await child
      await lines
    }
    expect(acked.size).toBeGreaterThan(rounds)

    const after = await withStore(
      config,
      (store) =>
        Effect.gen(function* () {
          const missing: Array<string> = []
          for (const runId of acked) if ((yield* store.findRun(runId as RunId)) === null) missing.push(runId)
          return {
            corrupt: store.corruptFiles,
            identity: store.identity?.daemonId,
            missing,
            cache: yield* store.eventCache,
          }
        }),
      { readOnly: true },
    )
    expect(after.corrupt).toEqual([])
    expect(after.identity).toBe(identity)
    expect(after.missing).toEqual([])
    expect(after.cache.events.length).toBeGreaterThan(0)
    // Bounded by 25 process start-ups, each up to seconds on a loaded machine.
  }, 300_000)
})
