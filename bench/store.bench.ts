/**
 * Store: the cost of one run update with 1,000 and with 100,000 runs in history, retention on (1,000).
 * With retention the registry stays the same size, so the ratio should stay near 1: history lives in
 * the archive, which an update only appends to.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { Effect } from "effect"
import { foundationLayer } from "../src/daemon.ts"
import type { RunRegistryState } from "../src/domain/run.ts"
import { Store } from "../src/services/store/Store.ts"
import { finished, makeRun } from "../test/support/runs.ts"
import { configFor } from "../test/support/tempConfig.ts"
import { report, tempDir } from "./harness.ts"

const UPDATES = 200

/** A state directory whose history is `total` finished runs: 1,000 in the registry, the rest archived. */
const seed = (total: number) => {
  const dir = tempDir("codexd-bench-store-")
  const config = configFor(dir.path, { runRetention: "1000" })
  mkdirSync(config.paths.stateDir, { recursive: true })
  const runs = Array.from({ length: total }, () => finished(makeRun({ prompt: "p".repeat(200) })))
  const registry: RunRegistryState = { updatedAt: null, runs: runs.slice(-1000) }
  writeFileSync(config.paths.runRegistryPath, JSON.stringify(registry))
  const archived = runs.slice(0, -1000)
  if (archived.length > 0)
    writeFileSync(config.paths.runArchivePath, `${archived.map((r) => JSON.stringify(r)).join("\n")}\n`)
  return { dir, config }
}

const msPerUpdate = async (total: number): Promise<number> => {
  const { dir, config } = seed(total)
  try {
    return await Effect.runPromise(
      Effect.gen(function* () {
        const store = yield* Store
        const start = performance.now()
        for (let i = 0; i < UPDATES; i++) {
          const run = finished(makeRun())
          yield* store.putRuns([run])
        }
        return (performance.now() - start) / UPDATES
      }).pipe(Effect.provide(foundationLayer(config))),
    )
  } finally {
    dir.cleanup()
  }
}

export const storeBench = async (): Promise<void> => {
  const small = await msPerUpdate(1_000)
  const large = await msPerUpdate(100_000)
  report(
    `Store: one durable run update (mean of ${UPDATES}), retention 1,000`,
    { label: "100,000 runs in history", value: large, unit: "ms/update" },
    { label: "1,000 runs in history", value: small, unit: "ms/update" },
  )
}
